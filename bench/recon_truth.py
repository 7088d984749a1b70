"""`python -m bench.recon_truth`: recon scored against market's ground truth (services/scoring/recon_truth.py)."""

from services.scoring.recon_truth import main

if __name__ == "__main__":
    raise SystemExit(main())
