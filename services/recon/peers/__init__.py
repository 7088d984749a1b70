"""recon's peers: market and the ledger.

- wire.py: their protobuf turned into the check's domain records, and an aged cash break into
  the ledger's PostJournalRequest; the check itself (domain/check.py) never sees the wire.
- market.py: market's books at a day end (GetSnapshot).
- ledger.py: the ledger's balances once it has booked a day end (GetBalances with
  min_market_seq), and suspense journals (PostJournal); a day-end check waits for them.
- stopping.py: Stopped, and peer calls that end when the service shuts down.
"""

from services.recon.peers.wire import SOURCE

__all__ = ["SOURCE"]
