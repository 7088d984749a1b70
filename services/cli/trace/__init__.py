"""opsuite trace: one chain, from the market tick to the ledger journal, from the combined event log."""
