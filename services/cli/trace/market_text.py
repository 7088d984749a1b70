"""The line for a market event now lives in the platform (services/common/trace_chain/market_text.py),
shared with recon's GetChain; this name stays for the code and tests that import it from here."""

from services.common.trace_chain.market_text import describe

__all__ = ["describe"]
