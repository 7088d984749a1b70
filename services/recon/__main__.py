"""python -m services.recon: serve recon's three-way reconciliation and its breaks."""

from services.common.serve import main
from services.recon.app import build_service
from services.recon.settings import ReconSettings

if __name__ == "__main__":
    main("recon", build_service, ReconSettings)
