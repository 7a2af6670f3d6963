"""Identifiers and secrets, all from the CSPRNG (`secrets`)."""

from __future__ import annotations

import re
import secrets
import time
from functools import cache
from pathlib import Path

# Crockford's base32, lower case: no i, l, o, u, and no `_`, so ids can sit inside a token string.
_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
ID_PATTERN = re.compile(r"^[0-9a-hjkmnp-tv-z]{26}$")
_LOCAL_PART_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"
RANDOM_LOCAL_PART_LENGTH = 12  # 36**12 ~ 4.7e18: unguessable for a spammer walking the domain
# Reply addresses (contacts, store/contacts.py) live in their own namespace of every alias domain: an alias may not
# start with it (422), so the forwarder tells a reply address from an alias by its shape, before any read.
REPLY_PREFIX = "reply-"
REPLY_RANDOM_LENGTH = 20  # 36**20 ~ 1.3e31 (103 bits): nobody finds a contact's address by trying


def new_id() -> str:
    """A ULID-shaped id: 48 bits of milliseconds then 80 random bits, 26 characters.

    Ids sort by creation time, which is what lets a `Query` return "newest first" without an index.
    """
    value = (time.time_ns() // 1_000_000) << 80 | secrets.randbits(80)
    chars = []
    for _ in range(26):
        value, digit = divmod(value, 32)
        chars.append(_ALPHABET[digit])
    return "".join(reversed(chars))


def is_id(value: str) -> bool:
    return bool(ID_PATTERN.match(value))


def random_local_part() -> str:
    return "".join(secrets.choice(_LOCAL_PART_ALPHABET) for _ in range(RANDOM_LOCAL_PART_LENGTH))


# The `words` alias style (PATCH /api/me): `quiet.river427`, two words of the BIP39 English list (2048 words of
# 3-8 letters a-z, chosen to be told apart; from trezor/python-mnemonic, MIT) and three digits:
# 2048 * 2048 * 1000 ~ 4.2e9 (32 bits), at least 10 characters. Fewer bits than the random style's 62, made to be
# read and typed: a spammer would still have to send billions of messages, each one billed, to hit one alias.
WORD_DIGITS = 3


@cache
def _words() -> tuple[str, ...]:
    return tuple((Path(__file__).parent / "wordlist.txt").read_text(encoding="ascii").split())


def words_local_part() -> str:
    words = _words()
    return f"{secrets.choice(words)}.{secrets.choice(words)}{secrets.randbelow(10**WORD_DIGITS):0{WORD_DIGITS}d}"


def styled_local_part(style: str) -> str:
    """A random local part in a user's `alias_style`: `words`, or random characters (anything else)."""
    return words_local_part() if style == "words" else random_local_part()


def is_reply_local_part(local_part: str) -> bool:
    return local_part.lower().startswith(REPLY_PREFIX)


def random_reply_local_part() -> str:
    return REPLY_PREFIX + "".join(secrets.choice(_LOCAL_PART_ALPHABET) for _ in range(REPLY_RANDOM_LENGTH))
