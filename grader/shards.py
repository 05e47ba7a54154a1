"""Sharding: which submissions one grader of N grades (``--shard K/N``), stable across runs."""

from __future__ import annotations

import hashlib
import re

from .notebooks import Found

__all__ = ["in_shard", "parse_shard"]


def parse_shard(text: str | None) -> tuple[int, int] | None:
    """``"K/N"`` -> (K, N) with 1 <= K <= N; ValueError otherwise."""
    if text is None:
        return None
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
    if not match or not 1 <= int(match[1]) <= int(match[2]):
        raise ValueError(f"--shard must be K/N with 1 <= K <= N (e.g. 2/8), got {text!r}")
    return int(match[1]), int(match[2])


def in_shard(found: Found, shard: tuple[int, int] | None) -> bool:
    """Whether this submission belongs to shard K of N (by a hash of its path: stable)."""
    if shard is None:
        return True
    k, n = shard
    return int.from_bytes(hashlib.sha256(found.relative).digest()[:8], "big") % n == k - 1
