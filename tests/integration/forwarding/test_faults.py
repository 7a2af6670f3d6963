"""Faults, tried (decision 0026): 1,000 messages of mixed sizes with 20 % of the SES and DynamoDB calls failing,
crashes between a send and its record, and events delivered twice. Nothing is lost, nothing is sent twice,
every copy is forwarded or quarantined, and the reconciliation finds nothing unaccounted. `make bench` prints
the same run's figures (bench/faults.py). About 12 minutes on a busy 2-core machine (moto's cost per call)."""

from __future__ import annotations

import pytest

from bench import faults


@pytest.mark.slow
def test_a_thousand_messages_with_one_call_in_five_failing_lose_nothing_and_send_nothing_twice() -> None:
    found = faults.run(faults.MESSAGES)

    assert found.lost == []
    assert found.sent_twice == 0  # by SES's message count per (message, destination)
    assert found.sent_once + found.quarantined >= found.copies
    assert found.unaccounted == 0
    # The run did meet faults, of every kind it plays: else it would prove nothing.
    assert sum(found.injected.values()) > 1000
    assert found.crashes > 0
    assert found.duplicates > 0
    assert found.dead_lettered > 0
    # The one message over SES's 40 MB, to an alias with two destinations: two copies, never sent.
    assert found.quarantined_by_reason.get("too_large") == 2
    assert set(found.reconciled) <= {"forwarded", "quarantined"}
