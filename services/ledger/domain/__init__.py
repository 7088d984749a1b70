"""The ledger's pure domain: no database, no gRPC.

- records.py: the immutable journal, posting and account records.
- chart.py: account names (Beancount-compatible) and the precision each currency allows.
- validation.py: validate_draft (problems collected as values) and with_base_amounts.
- lots.py: FIFO and average-cost lots on the currency's minor-unit grid.
- rates.py: primary FX rates, crossed through USD.
- rules.py: LedgerBook, the posting rules of docs/ledger-design.md over market events.
- state.py: LedgerBook's state and its lossless JSON form.
- retention.py: when the ledger closes a period (OPSUITE_LEDGER_KEEP_DAYS), and its horizon.

Invariants the tests hold these to: every journal balances per currency and in base;
amounts are never rounded on input; a book restored from its JSON posts exactly what an
uninterrupted one posts; at each day end the ledger's quantities and cash equal the
internal book's (cash after adding back settlements that are late at the custodian).
"""
