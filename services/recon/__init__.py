"""recon: three-way reconciliation of the internal book, the custodian and the ledger.

Day-end checks against market's snapshot and the ledger's balances (checker.py), breaks with
their aging and suspense journals (domain/), kept in an SQLite store (store/), served by
ReconService (server.py).
"""
