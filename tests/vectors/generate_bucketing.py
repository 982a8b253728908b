"""Generate tests/vectors/bucketing.json from an independent, pure-Python MurmurHash3.

The expected buckets do not come from rheostat (nor from the mmh3 package it uses): this file
implements MurmurHash3_x86_32 from Austin Appleby's reference (smhasher, public domain), so the
vectors check the engine against the specification. Run: python tests/vectors/generate_bucketing.py
"""

from __future__ import annotations

import json
import random
import uuid
from pathlib import Path

MASK = 0xFFFFFFFF


def _rotl(value: int, shift: int) -> int:
    return ((value << shift) | (value >> (32 - shift))) & MASK


def _fmix(h: int) -> int:
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & MASK
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & MASK
    return h ^ (h >> 16)


def murmur3_32(data: bytes, seed: int = 0) -> int:
    """MurmurHash3_x86_32, unsigned."""
    c1, c2 = 0xCC9E2D51, 0x1B873593
    h = seed & MASK
    blocks = len(data) // 4
    for index in range(blocks):
        k = int.from_bytes(data[index * 4 : index * 4 + 4], "little")
        k = (_rotl((k * c1) & MASK, 15) * c2) & MASK
        h = (_rotl(h ^ k, 13) * 5 + 0xE6546B64) & MASK
    tail = data[blocks * 4 :]
    k = 0
    for position, byte in enumerate(tail):
        k |= byte << (8 * position)
    if tail:
        h ^= (_rotl((k * c1) & MASK, 15) * c2) & MASK
    return _fmix(h ^ len(data))


# Published MurmurHash3_x86_32 values (seed 0), as a check of this implementation.
KNOWN = {
    b"": 0,
    b"hello": 0x248BFA47,
    b"Hello, world!": 0xC0363E43,
    b"The quick brown fox jumps over the lazy dog": 0x2E4FF723,
}


def vectors() -> list[dict[str, object]]:
    """Return (salt, value, bucket) cases: random ids, edge cases and non-ASCII text."""
    generator = random.Random(20261124)  # noqa: S311  # fixed seed: reproducible vectors
    salts = ["new-checkout", "hybrid_search", "s2", "", "flag with spaces", "résumé-flag", "日本"]
    values = [str(uuid.UUID(int=generator.getrandbits(128))) for _ in range(1000)]
    values += [
        "",
        "0",
        "user-1",
        "user-42",
        "ü",
        "🚀",
        "a" * 300,
        "org-17",
        "-1",
        "key:with:colons",
    ]
    cases = []
    for index, value in enumerate(values):
        salt = salts[index % len(salts)]
        digest = murmur3_32(f"{salt}:{value}".encode())
        cases.append({"salt": salt, "value": value, "hash": digest, "bucket": digest % 100_000})
    return cases


def main() -> None:
    for data, expected in KNOWN.items():
        assert murmur3_32(data) == expected, data
    document = {
        "scheme": "bucket = murmurhash3_x86_32(utf8(salt + ':' + value), seed=0) mod 100000",
        "hash_version": 1,
        "provenance": "tests/vectors/generate_bucketing.py (independent pure-Python MurmurHash3)",
        "cases": vectors(),
    }
    path = Path(__file__).with_name("bucketing.json")
    path.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
