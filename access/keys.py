"""API key secrets: `cp_` + 43 base62 characters (32 random bytes) + a 6-character CRC32 checksum.

The checksum lets the middleware refuse typos and garbage without touching the database. Only the SHA-256 of the
whole key is stored; the display prefix (`cp_` + 8 characters) is what lists show.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import zlib
from dataclasses import dataclass

PREFIX = "cp_"
ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_ALPHABET_SET = frozenset(ALPHABET)
RANDOM_BYTES = 32
BODY_LENGTH = 43  # 62**43 > 256**32
CHECKSUM_LENGTH = 6  # 62**6 > 2**32
KEY_LENGTH = len(PREFIX) + BODY_LENGTH + CHECKSUM_LENGTH
DISPLAY_LENGTH = len(PREFIX) + 8


def _base62(number: int, width: int) -> str:
    digits = []
    for _ in range(width):
        number, rest = divmod(number, 62)
        digits.append(ALPHABET[rest])
    return "".join(reversed(digits))


def _checksum(body: str) -> str:
    return _base62(zlib.crc32(body.encode()), CHECKSUM_LENGTH)


@dataclass(frozen=True)
class NewKey:
    secret: str
    prefix: str
    hash: str


def generate() -> NewKey:
    body = _base62(int.from_bytes(secrets.token_bytes(RANDOM_BYTES), "big"), BODY_LENGTH)
    secret = f"{PREFIX}{body}{_checksum(body)}"
    return NewKey(secret=secret, prefix=secret[:DISPLAY_LENGTH], hash=hash_key(secret))


def well_formed(candidate: str) -> bool:
    """Shape and checksum only: cheap enough to run before any lookup."""
    if len(candidate) != KEY_LENGTH or not candidate.startswith(PREFIX):
        return False
    body = candidate[len(PREFIX) : len(PREFIX) + BODY_LENGTH]
    if not set(body) <= _ALPHABET_SET:
        return False
    return hmac.compare_digest(candidate[-CHECKSUM_LENGTH:], _checksum(body))


def hash_key(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def same_hash(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
