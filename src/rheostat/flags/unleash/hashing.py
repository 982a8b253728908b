"""Unleash's ``normalizedHash``: MurmurHash3 (x86, 32-bit) of ``"<group>:<identifier>"``.

The result is in ``1..modulus``. Rollouts use seed 0 and modulus 100; variants use seed
86028157 and the sum of the variant weights, exactly as every Unleash SDK does, so a user
lands in the same bucket here as in Unleash.
"""

from __future__ import annotations

import mmh3

__all__ = ["ROLLOUT_SEED", "VARIANT_SEED", "normalized_hash"]

ROLLOUT_SEED = 0
VARIANT_SEED = 86028157


def normalized_hash(group_id: str, identifier: str, modulus: int, seed: int = ROLLOUT_SEED) -> int:
    """Return Unleash's bucket for ``identifier`` in ``group_id``: an int in ``1..modulus``."""
    key = f"{group_id}:{identifier}"
    # mmh3 hashes a str as its UTF-8 bytes, but crashes the interpreter on a lone surrogate
    # (mmh3 5.3); encoding non-ASCII keys ourselves gives the same bytes and cannot crash.
    data = key if key.isascii() else key.encode("utf-8", "surrogatepass")
    digest: int = mmh3.hash(data, seed, False)  # unsigned
    return digest % modulus + 1
