"""dq's pure domain: the data quality checks and the issue lifecycle.

No gRPC, no generated contract, no telemetry, no storage: the service feeds these classes the
records of market's stream (services.common.market_events) and stores what they return.

- config.py: the checks declared in TOML (default_checks.toml ships here and documents every
  rule and threshold); ConfigError
- results.py: CheckResult, one evaluation of one check; Family, Severity, IssueKind
- prices.py: PriceChecks, per event (regime, primary, vendor, day_end): divergence, stale, spike,
  missing, non-positive, off-tick, bond price vs curve; which vendor to blame
- price_rules.py, price_series.py, peers.py, robust.py, curve.py: the rules and the blame, the
  per-vendor series, the peers' move of a day, the robust z, the curve-implied bond price
- fx.py: FxChecks, per rate: triangulation, inverse, stale
- holdings.py: weights, market values, book vs custodian vs ledger (pure functions)
- reference.py: ISIN / CUSIP check digits, missing sector or currency
- issues.py: IssueBook, the issue lifecycle (raise, update, self-resolve, acknowledge) and the
  quarantine with the last good value; issue_records.py its records, issue_json.py their JSON
"""
