"""Independent, reproducible random streams, one per purpose.

Each part of the world (prices, desk, vendor, custodian faults, ...) draws from
its own stream seeded from (seed, purpose), so adding a fault, an instrument
draw or an on-demand injection in one part never shifts the numbers another
part sees. Seeds come from SHA-256, not hash(): str hashing is salted per
process (PYTHONHASHSEED) and would break byte-for-byte determinism.
"""

from __future__ import annotations

import hashlib
import random

import numpy as np


def derive_seed(seed: int, purpose: str) -> int:
    """A 64-bit seed for one purpose, stable across processes and platforms."""
    digest = hashlib.sha256(f"opsuite-market/{seed}/{purpose}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def py_stream(seed: int, purpose: str) -> random.Random:
    """A random.Random for scalar decisions (which broker, whether a fault fires)."""
    return random.Random(derive_seed(seed, purpose))


def np_stream(seed: int, purpose: str) -> np.random.Generator:
    """A numpy Generator (PCG64) for vectorised draws (price shocks, vendor noise)."""
    return np.random.Generator(np.random.PCG64(derive_seed(seed, purpose)))
