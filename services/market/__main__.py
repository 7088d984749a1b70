"""python -m services.market: serve the market simulation."""

from services.common.serve import main
from services.market.app import build_service
from services.market.settings import MarketSettings

if __name__ == "__main__":
    main("market", build_service, MarketSettings)
