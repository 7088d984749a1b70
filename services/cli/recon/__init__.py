"""opsuite breaks, opsuite break and opsuite recon: recon's breaks at hand, over its RPCs."""
