"""python -m services.reporting: serve NAV, performance and attribution per mandate."""

from services.common.serve import main
from services.reporting.app import build_service
from services.reporting.settings import ReportingSettings

if __name__ == "__main__":
    main("reporting", build_service, ReportingSettings)
