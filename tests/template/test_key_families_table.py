"""Decision 0074's table of key families per function says what the template's statements allow."""

from __future__ import annotations

from tests.support import iam_policy, key_families


def test_the_decision_records_table_is_the_templates() -> None:
    document = key_families.DECISION.read_text()
    assert key_families.with_table(document) == document, (
        "docs/decisions/0074's key-family table differs from template.yaml's statements: run `make key-families`"
    )


def test_every_function_with_table_statements_has_a_row() -> None:
    rows = key_families.table().splitlines()[2:]
    listed = {line.split("|")[1].strip() for line in rows}
    with_table_access = {
        name.removesuffix("Function")
        for name, statements in iam_policy.statements().items()
        if any(action.startswith("dynamodb:") for statement in statements for action in statement.actions)
    }
    assert listed == with_table_access


def test_a_row_groups_actions_by_the_families_they_reach() -> None:
    statement = iam_policy.Statement(
        id="p[0]",
        effect="Allow",
        actions=("dynamodb:GetItem", "dynamodb:Query", "dynamodb:ConditionCheckItem"),
        resources="*",
        conditions={"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["USER#*", "USERS"]}},
    )
    idempotency = iam_policy.Statement(
        id="p[1]",
        effect="Allow",
        actions=("dynamodb:PutItem",),
        resources="*",
        conditions={"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["IDEMPOTENCY#*"]}},
    )
    scoped = iam_policy.Statement(
        id="p[2]",
        effect="Allow",
        actions=("dynamodb:PutItem",),
        resources="*",
        conditions={"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["ACT#*"]}},
    )
    assert (
        key_families.row((statement, idempotency, scoped)) == "Check/Get/Query USER#, USERS; Put ACT# (+ IDEMPOTENCY#)"
    )
