"""python -m services.ledger: serve the double-entry book of record."""

from services.common.serve import main
from services.ledger.app import build_service
from services.ledger.settings import LedgerSettings

if __name__ == "__main__":
    main("ledger", build_service, LedgerSettings)
