"""Decision 0074's table of the key families each function may touch, rendered from the transformed template.

The table was written by hand and fell behind the template (functions added later, families added to old ones);
rendered from the statements themselves it cannot. `tests/template/test_key_families_table.py` fails when the
decision's table differs from this rendering; `make key-families` (this module run as a script) rewrites it.

    python -m tests.support.key_families          # rewrite the table in the decision record
"""

from __future__ import annotations

import re
import sys
from collections import defaultdict
from pathlib import Path

from tests.support import iam_policy

DECISION = (
    Path(__file__).resolve().parents[2]
    / "docs/decisions/0074-key-families-per-function-and-the-call-by-call-policy-test.md"
)
BEGIN, END = "<!-- key-families:begin (rendered by `make key-families`) -->", "<!-- key-families:end -->"
_IDEMPOTENCY = "IDEMPOTENCY#"
# dynamodb:GetItem -> Get; the shorter names the table has always used.
_SHORT = {"ConditionCheckItem": "Check", "BatchGetItem": "BatchGet", "BatchWriteItem": "BatchWrite"}


def _short(action: str) -> str:
    name = action.removeprefix("dynamodb:")
    return _SHORT.get(name, name.removesuffix("Items").removesuffix("Item"))


def _families(statement: iam_policy.Statement) -> list[str]:
    """The statement's `dynamodb:LeadingKeys` patterns as families: `USER#*` -> `USER#`, `USERS` stays."""
    leading: list[str] = []
    for operator, keys in statement.conditions.items():
        if operator.endswith("StringLike") or operator.endswith("StringEquals"):
            value = keys.get("dynamodb:LeadingKeys", [])
            leading.extend(value if isinstance(value, list) else [value])
    return [pattern.removesuffix("*") for pattern in leading]


def row(statements: tuple[iam_policy.Statement, ...]) -> str | None:
    """`Get USER#; Query ACT# (+ IDEMPOTENCY#)`: actions with the same families share a group, groups sorted."""
    families_by_action: dict[str, set[str]] = defaultdict(set)
    idempotency = False
    for statement in statements:
        if statement.effect != "Allow":
            continue
        actions = [action for action in statement.actions if action.startswith("dynamodb:")]
        families = _families(statement)
        if not actions or not families:
            continue
        if families == [_IDEMPOTENCY]:  # the Idempotency-Key records: a statement of their own
            idempotency = True
            continue
        for action in actions:
            families_by_action[_short(action)].update(families)
    if not families_by_action and not idempotency:
        return None
    actions_by_families: dict[tuple[str, ...], list[str]] = defaultdict(list)
    for action, reached in families_by_action.items():
        actions_by_families[tuple(sorted(reached))].append(action)
    groups = sorted(
        f"{'/'.join(sorted(actions))} {', '.join(families)}" for families, actions in actions_by_families.items()
    )
    return "; ".join(groups) + (" (+ IDEMPOTENCY#)" if idempotency else "")


def table() -> str:
    lines = ["| function | actions and key families |", "|---|---|"]
    for function, statements in sorted(iam_policy.statements().items()):
        rendered = row(statements)
        if rendered is not None:
            lines.append(f"| {function.removesuffix('Function')} | {rendered} |")
    return "\n".join(lines)


def with_table(document: str) -> str:
    """The decision record with its rendered block replaced by the template's table."""
    pattern = re.compile(re.escape(BEGIN) + r".*?" + re.escape(END), re.DOTALL)
    if not pattern.search(document):
        raise ValueError(f"{DECISION.name} has no {BEGIN} ... {END} block")
    return pattern.sub(lambda _: f"{BEGIN}\n{table()}\n{END}", document)


def main() -> int:
    document = DECISION.read_text()
    updated = with_table(document)
    if updated != document:
        DECISION.write_text(updated)
        print(f"rewrote the key-family table in {DECISION.relative_to(Path.cwd())}")
    else:
        print("the key-family table is current")
    return 0


if __name__ == "__main__":
    sys.exit(main())
