"""recon's pure domain: records, tolerances, the vectorised matcher, trade checks, break lifecycle.

No gRPC, no database, no network: the service calls these functions with books it
has assembled from market's stream and the ledger, and stores what they return.

- records.py: the immutable records (Difference, Break, BreakAction, CheckRun, ...)
- config.py: the whole TOML configuration (default_tolerances.toml ships here)
- tolerances.py: tolerance rules and `within`
- columns.py: Decimal <-> exact scaled int64 columns, the key index
- matching.py: the vectorised position / cash matcher
- trades.py: trade-level checks (custodian trades vs fills)
- cashflows.py: cash flows matched one by one (reference, amount, value date)
- conventions.py: which fills are pending on which side (the books' conventions)
- aging.py: business-day calendar, age, buckets, escalation
- breaks.py: the lifecycle (`advance`: open, age, parents, resolve) and the workflow (`update`)
- suspense.py: the journal a ledger-vs-custodian break owes the ledger (suspense, write-off)
- followed.py: what recon remembers of the stream, the custodian's corrections included
The rules: services/recon/README.md.
- runs.py: check-run summaries
"""
