"""Which of SES's verdict combinations authenticate a reply (postmask.mail.reply.verdict_refusal, decision 0111):
DMARC PASS, or SPF PASS (for the envelope sender, which the reply path then requires to be the From address too)
with DMARC not FAIL. DKIM PASS alone never: SES's `dkimVerdict` PASS means *some* signature verified, maybe one
of the attacker's own domain."""

from __future__ import annotations

import itertools

import pytest

from postmask.mail.reply import Refusal, verdict_refusal

STATUSES = ("PASS", "FAIL", "GRAY", "PROCESSING_FAILED")


def receipt(spf: str, dkim: str, dmarc: str, spam: str = "PASS", virus: str = "PASS") -> dict[str, object]:
    return {
        "spamVerdict": {"status": spam},
        "virusVerdict": {"status": virus},
        "spfVerdict": {"status": spf},
        "dkimVerdict": {"status": dkim},
        "dmarcVerdict": {"status": dmarc},
    }


def authentic(spf: str, dmarc: str) -> bool:
    return dmarc == "PASS" or (spf == "PASS" and dmarc != "FAIL")


@pytest.mark.parametrize(("spf", "dkim", "dmarc"), list(itertools.product(STATUSES, repeat=3)))
def test_every_combination_of_spf_dkim_and_dmarc(spf: str, dkim: str, dmarc: str) -> None:
    expected = None if authentic(spf, dmarc) else Refusal.UNAUTHENTICATED
    assert verdict_refusal(receipt(spf, dkim, dmarc)) is expected


@pytest.mark.parametrize("dmarc", ["GRAY", "PROCESSING_FAILED", "FAIL"])
def test_dkim_pass_alone_never_authenticates(dmarc: str) -> None:
    # The attack of issue 25: signed by the attacker's own domain, envelope and From forged to the destination.
    assert verdict_refusal(receipt("FAIL", "PASS", dmarc)) is Refusal.UNAUTHENTICATED


@pytest.mark.parametrize(
    ("spam", "virus", "expected"), [("FAIL", "PASS", Refusal.SPAM), ("PASS", "FAIL", Refusal.VIRUS)]
)
def test_spam_or_virus_refuses_even_an_authenticated_reply(spam: str, virus: str, expected: Refusal) -> None:
    assert verdict_refusal(receipt("PASS", "PASS", "PASS", spam, virus)) is expected


def test_missing_verdicts_authenticate_nothing() -> None:
    assert verdict_refusal({}) is Refusal.UNAUTHENTICATED
