"""postmask.public_suffix against the Public Suffix List's own test data (shipped with the package), and the
cases postmask relies on: registering, and (issue 17) telling a site's senders from foreign ones."""

from __future__ import annotations

import re
from importlib import resources

import pytest

from postmask.public_suffix import is_public_suffix, registrable_domain

_CHECK = re.compile(r"^checkPublicSuffix\((null|'[^']*'), (null|'[^']*')\);", re.MULTILINE)


def _punycode(name: str) -> str:
    return name if name.isascii() else name.encode("idna").decode("ascii")


def _official_cases() -> list[tuple[str, str | None]]:
    text = resources.files("publicsuffixlist").joinpath("test_psl.txt").read_text(encoding="utf-8")
    cases = []
    for given, expected in _CHECK.findall(text):
        if given == "null" or given.strip("'").startswith("."):
            continue  # postmask never has an empty name or a leading dot: its schemas refuse them first
        name = given.strip("'").lower()
        cases.append((_punycode(name), None if expected == "null" else _punycode(expected.strip("'"))))
    return cases


OFFICIAL = _official_cases()


def test_the_official_test_data_is_there() -> None:
    assert len(OFFICIAL) > 60


@pytest.mark.parametrize(("name", "expected"), OFFICIAL, ids=[name for name, _ in OFFICIAL])
def test_the_registrable_domain_is_the_lists_answer(name: str, expected: str | None) -> None:
    assert registrable_domain(name) == expected
    # A name with no registrable domain is a public suffix (or under a wildcard rule's suffix).
    assert is_public_suffix(name) == (expected is None)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("mail.shop.example.co.uk", "example.co.uk"),
        ("example.co.uk", "example.co.uk"),
        ("user.github.io", "user.github.io"),  # a private suffix: each user owns their own
        ("www.user.github.io", "user.github.io"),
        ("alice.example", "alice.example"),  # a TLD the list does not know: the implicit `*` rule
        ("xn--bcher-kva.example", "xn--bcher-kva.example"),  # IDN, as postmask stores it
        ("shop.xn--e1afmkfd.xn--p1ai", "xn--e1afmkfd.xn--p1ai"),  # a punycode TLD (.рф)
        ("Mail.Example.COM.", "example.com"),
    ],
)
def test_what_postmask_relies_on(name: str, expected: str) -> None:
    assert registrable_domain(name) == expected
    assert not is_public_suffix(name)


@pytest.mark.parametrize("name", ["com", "co.uk", "github.io", "s3.amazonaws.com", "xn--p1ai", "test.ck", ""])
def test_public_suffixes_belong_to_no_one(name: str) -> None:
    assert registrable_domain(name) is None
    assert is_public_suffix(name) == bool(name)


def test_ordinary_mail_providers_are_registrable_domains_not_suffixes() -> None:
    # Claimable, like any domain: the claim lapses unless its owner's DNS verifies it (DomainClaimDays).
    assert registrable_domain("gmail.com") == "gmail.com"
    assert registrable_domain("amazonses.com") == "amazonses.com"


def test_no_function_loads_the_list_when_it_starts() -> None:
    """Parsing the list costs ~50 ms (decision 0071): only a request that needs it pays, never a cold start."""
    from tests.unit.test_lean_imports import _handlers_using_postmask, _run

    handlers = _handlers_using_postmask()
    loaded = _run(
        "loaded = {}\n"
        f"for number, path in enumerate({handlers!r}):\n"
        "    spec = importlib.util.spec_from_file_location(f'handler{number}', path)\n"
        "    spec.loader.exec_module(importlib.util.module_from_spec(spec))\n"
        "    loaded[path] = 'publicsuffixlist' in sys.modules\n"
        "print(json.dumps(loaded))"
    )
    assert loaded == dict.fromkeys(handlers, False)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("news@shop.example", "shop.example"),
        ("offers@mailer.shop.example", "shop.example"),
        ("x@mail.shop.example.co.uk", "example.co.uk"),
        ("x@user.github.io", "user.github.io"),  # a private suffix: each user's own site
        ("x@www.user.github.io", "user.github.io"),
        ("x@bücher.example", "xn--bcher-kva.example"),  # IDN: its punycode form, as postmask stores names
        ("x@XN--BCHER-KVA.example", "xn--bcher-kva.example"),
        ("Shop.Example.", "shop.example"),
        ("x@co.uk", None),  # a public suffix is nobody's site
        ("x@github.io", None),
        ("no-domain", None),
        ("x@", None),
        ("x@-bad-.example", None),
        ("x@xn--zz.example", None),
    ],
)
def test_the_site_of_a_sender_or_a_host(given: str, expected: str | None) -> None:
    from postmask.public_suffix import site_of

    assert site_of(given) == expected
