"""python -m services.market: serve the market simulation."""

import sys

from pydantic import ValidationError

from services.common.logs import configure_logging
from services.common.serve import run
from services.common.settings import load_settings
from services.market.app import build_service

if __name__ == "__main__":
    try:
        settings = load_settings()
    except ValidationError as error:
        sys.exit(f"market: invalid configuration: {error}")
    # Logging first: loading the FRED series (and any fallback) is worth reporting.
    configure_logging("market", settings.log_level)
    run(build_service(settings), settings)
