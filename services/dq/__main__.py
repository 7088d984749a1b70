"""python -m services.dq: check market's prices, rates, holdings and reference data; serve the issues."""

from services.common.serve import main
from services.dq.app import build_service
from services.dq.settings import DqSettings

if __name__ == "__main__":
    main("dq", build_service, DqSettings)
