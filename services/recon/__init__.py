"""recon: three-way reconciliation of the internal book, the custodian and the ledger (issue 4).

So far only the pure domain exists (services/recon/domain/); the gRPC service comes next.
"""
