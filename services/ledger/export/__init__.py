"""Exports of the ledger to other accounting formats (pure: records in, text out)."""
