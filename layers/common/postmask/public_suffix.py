"""The Public Suffix List: which names anyone can register under (`co.uk`, `github.io`) and the registrable
domain of a name (`mail.shop.example.co.uk` -> `example.co.uk`, `user.github.io` -> `user.github.io`).

The list comes with the `publicsuffixlist` package, ICANN and private sections both, so nothing is fetched at
run time (decision 0071). Parsing it costs ~50 ms, once per container, on first use: import this module only
in the code paths that need it, never at a function's import time. Names are taken as postmask stores them:
lower case, an internationalised name in its IDNA (punycode) form; the list's own Unicode entries match their
punycode form.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from publicsuffixlist import PublicSuffixList


@cache
def _list() -> PublicSuffixList:
    from publicsuffixlist import PublicSuffixList

    # accept_unknown: a TLD the list does not know is a public suffix of its own (the list's implicit `*` rule).
    return PublicSuffixList(accept_unknown=True)


def _normalised(name: str) -> str:
    return name.strip().rstrip(".").lower()


def is_public_suffix(name: str) -> bool:
    """Whether `name` is itself a public suffix (`com`, `co.uk`, `github.io`, `kawasaki.jp` or `x.kawasaki.jp`):
    a name under which anyone may register, which no one owns."""
    name = _normalised(name)
    return bool(name) and _list().is_public(name)


def registrable_domain(name: str) -> str | None:
    """The domain someone registered to own `name`: its public suffix plus one label. None for a public suffix
    (or an empty name), which no one owns."""
    name = _normalised(name)
    if not name:
        return None
    found: str | None = _list().privatesuffix(name)
    return found


def site_of(name: str) -> str | None:
    """The registrable domain of a host name or of an address's domain, as written anywhere (any case, Unicode
    or punycode): `offers@mailer.shop.example` and `shop.example` are both `shop.example`. None when it is no
    valid domain name, or a public suffix."""
    from postmask.schemas.common import canonical_domain

    domain = name.strip().rpartition("@")[2].rstrip(".")
    try:
        domain = canonical_domain(domain)
    except ValueError:
        return None
    return registrable_domain(domain)
