"""postmask.schemas.common.email_address: the plain-address fast path answers exactly as pydantic's EmailStr would.

EmailStr (email-validator) is the reference: for every input, both accept with the same normalised address,
or both refuse. The inputs are a list of known edge cases and generated addresses built from the characters
that matter at each position (dots, dashes, case, lengths, special-use TLDs, non-ASCII, "Name <...>").
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import email_validator
import idna
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, EmailStr, ValidationError

from postmask.schemas import common as schemas
from postmask.schemas.common import Email, email_address

LAYER = Path(__file__).resolve().parents[2] / "layers" / "common"


class Reference(BaseModel):
    address: EmailStr


class Ours(BaseModel):
    address: Email


def _verdict(model: type[BaseModel], value: str) -> tuple[str, str]:
    try:
        verdict = "ok", str(model.model_validate({"address": value}).address)  # type: ignore[attr-defined]
    except ValidationError as exc:
        (error,) = exc.errors()
        return error["type"], error["msg"]
    return _canonical(verdict[1]) if model is Reference else verdict


NOT_ASCII = ("value_error", "Value error, the part before the @ must be ASCII: Amazon SES cannot send to this address")


def _canonical(address: str) -> tuple[str, str]:
    """What postmask makes of an address EmailStr accepts (issue 13, item 5): one canonical ASCII form, the
    domain in IDNA (punycode) form; a local part that is not ASCII is refused (SES cannot send to it)."""
    local, _, domain = address.rpartition("@")
    if not local.isascii():
        return NOT_ASCII
    return "ok", f"{local}@{idna.encode(domain, uts46=True).decode('ascii')}"


EDGE_CASES = [
    "me@example.org",
    "Me.Myself+tag@Sub.Example.ORG",
    "a@b.co",
    "x@localhost",
    "x@example.test",
    "x@mail.example.onion",
    "x@EXAMPLE.ARPA",
    "x@example",
    "x@example.c0m",
    "x@example.123",
    "x@-example.org",
    "x@example-.org",
    "x@ex--ample.org",
    "x@xn--bcher-kva.de",
    "x@xn--zz.de",
    "x@exa_mple.org",
    ".x@example.org",
    "x.@example.org",
    "x..y@example.org",
    "x@example..org",
    "x@.example.org",
    "x@example.org.",
    '"quoted"@example.org',
    "Name <me@example.org>",
    " me@example.org ",
    "me@[127.0.0.1]",
    "é@example.org",
    "me@bücher.de",
    "me@@example.org",
    "@example.org",
    "me@",
    "",
    "a" * 64 + "@example.org",
    "a" * 65 + "@example.org",
    "me@" + "a" * 63 + ".org",
    "me@" + "a" * 64 + ".org",
    "me@" + ".".join(["a" * 60] * 4) + ".org",
    "!#$%&'*+/=?^_`{|}~-@example.org",
]


@pytest.mark.parametrize("value", EDGE_CASES)
def test_edge_cases_answer_as_email_str(value: str) -> None:
    assert _verdict(Ours, value) == _verdict(Reference, value)


# Mostly well-formed pieces, so that many inputs take the fast path; sometimes a character or a length that
# only email-validator accepts, or that nobody should.
_atom = st.text(st.sampled_from("aZ09+_-!~'"), min_size=1, max_size=8) | st.text(st.sampled_from('a.é "@'), max_size=3)
_label = st.text(st.sampled_from("aZ09-"), min_size=1, max_size=10) | st.sampled_from(
    ["", "a" * 63, "a" * 64, "é", "a_b"]
)
_tld = st.sampled_from(["org", "ORG", "de", "Io", "c0", "9", "test", "Local", "x", "é", "", "co-uk", "xn--p1ai"])


@st.composite
def addresses(draw: st.DrawFn) -> str:
    local = ".".join(draw(st.lists(_atom, min_size=1, max_size=4)))
    if draw(st.integers(0, 9)) == 0:
        local = "a" * draw(st.integers(60, 70))
    labels = draw(st.lists(_label, min_size=0, max_size=4))
    return f"{local}@{'.'.join([*labels, draw(_tld)])}"


@settings(max_examples=1500, deadline=None)
@given(addresses())
def test_generated_addresses_answer_as_email_str(value: str) -> None:
    assert _verdict(Ours, value) == _verdict(Reference, value)


def test_special_use_names_are_all_known() -> None:
    """A newer email-validator refusing another special-use name must not be accepted by the fast path."""
    known = set(schemas._SPECIAL_USE_TLDS)
    assert {name.rsplit(".", 1)[-1] for name in email_validator.SPECIAL_USE_DOMAIN_NAMES} <= known


def test_a_plain_address_does_not_import_email_validator() -> None:
    """The point of the fast path: a cold start that validates a plain address skips email-validator."""
    script = (
        "import json, sys; sys.path.insert(0, sys.argv[1]);"
        "from postmask.schemas.common import email_address;"
        "plain = email_address('Me@Example.org'); after_plain = 'email_validator' in sys.modules;"
        "email_address('Me <me@example.org>');"
        "print(json.dumps([plain, after_plain, 'email_validator' in sys.modules]))"
    )
    result = subprocess.run([sys.executable, "-c", script, str(LAYER)], capture_output=True, text=True, check=True)
    assert json.loads(result.stdout) == ["Me@example.org", False, True]


def test_an_invalid_address_gets_email_str_message() -> None:
    with pytest.raises(Exception, match="value is not a valid email address"):
        email_address("nobody@example")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("a@xn--80ak6aa92e.com", "a@xn--80ak6aa92e.com"),  # stored as written, never as the look-alike Unicode
        ("a@\u0430\u0440\u0440\u04cf\u0435.com", "a@xn--80ak6aa92e.com"),
        ("a@B\u00fccher.Example", "a@xn--bcher-kva.example"),
        ("a@XN--BCHER-KVA.example", "a@xn--bcher-kva.example"),
    ],
)
def test_addresses_are_stored_in_one_canonical_ascii_form(value: str, expected: str) -> None:
    assert Ours.model_validate({"address": value}).address == expected


@pytest.mark.parametrize("value", ["a@xn--zz.example", "j\u00f6rg@example.org", "\u4f8b@example.org"])
def test_what_ses_cannot_send_to_is_refused(value: str) -> None:
    with pytest.raises(ValidationError):
        Ours.model_validate({"address": value})
