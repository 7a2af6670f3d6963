"""Sign-in for people in template.yaml: the public routes, what each function may do (least privilege, and
the public route's blindness to accounts), the mailer invoked through its alias, SessionDays."""

from __future__ import annotations

import json
from typing import Any

import pytest

from local import sam_template
from tests.support.transform import transformed

ALIAS = "live"


@pytest.fixture(scope="module")
def cfn() -> dict[str, Any]:
    return transformed()


def statements(cfn: dict[str, Any], function: str) -> list[dict[str, Any]]:
    """The Allow statements of the function's own role (SAM's inline policies), actions as lists."""
    role = cfn["Resources"][f"{function}Role"]["Properties"]
    found = []
    for policy in role.get("Policies", []):
        for statement in policy["PolicyDocument"]["Statement"]:
            assert statement["Effect"] == "Allow"
            actions = statement["Action"]
            found.append({**statement, "Action": sorted([actions] if isinstance(actions, str) else actions)})
    return found


def leading_keys(statement: dict[str, Any]) -> list[str] | None:
    condition = statement.get("Condition", {}).get("ForAllValues:StringLike", {})
    keys = condition.get("dynamodb:LeadingKeys")
    return sorted(keys) if keys is not None else None


def grants(cfn: dict[str, Any], function: str) -> dict[str, list[str] | None]:
    """Each DynamoDB action -> the key prefixes it is limited to (None: the whole table)."""
    found: dict[str, list[str] | None] = {}
    for statement in statements(cfn, function):
        for action in statement["Action"]:
            if action.startswith("dynamodb:"):
                assert action not in found, f"{function}: {action} granted twice"
                found[action] = leading_keys(statement)
    return found


def other_actions(cfn: dict[str, Any], function: str) -> dict[str, Any]:
    return {
        action: statement["Resource"]
        for statement in statements(cfn, function)
        for action in statement["Action"]
        if not action.startswith("dynamodb:")
    }


def test_asking_for_a_link_reads_and_writes_only_link_counts_and_invokes_only_the_mailers_alias(
    cfn: dict[str, Any],
) -> None:
    """The public route cannot read a user, a marker or a token: it cannot tell whether an account exists."""
    assert grants(cfn, "SessionsCreateFunction") == {
        "dynamodb:GetItem": ["SIGNINLIMIT#*"],
        "dynamodb:PutItem": ["SIGNINLIMIT#*"],
    }
    assert other_actions(cfn, "SessionsCreateFunction") == {
        "lambda:InvokeFunction": {"Ref": f"SignInMailerFunctionAlias{ALIAS}"}
    }
    variables = cfn["Resources"]["SessionsCreateFunction"]["Properties"]["Environment"]["Variables"]
    assert variables["SIGNIN_MAILER"] == {"Ref": f"SignInMailerFunctionAlias{ALIAS}"}


def test_redeeming_reads_and_spends_codes_voids_the_others_and_writes_tokens_only(cfn: dict[str, Any]) -> None:
    assert grants(cfn, "SessionsRedeemFunction") == {
        "dynamodb:GetItem": ["SIGNIN#*"],
        "dynamodb:DeleteItem": ["SIGNIN#*"],
        "dynamodb:UpdateItem": ["SIGNIN#*"],  # SIGNIN#USER#<id>/VOIDED: the account's other codes (issue 25)
        "dynamodb:PutItem": ["TOKEN#*", "USER#*"],
        "dynamodb:ConditionCheckItem": ["USER#*"],  # the profile: a disabled user gets no session
    }
    assert other_actions(cfn, "SessionsRedeemFunction") == {}


def test_signing_out_reads_and_deletes_tokens_only(cfn: dict[str, Any]) -> None:
    assert grants(cfn, "SessionsDeleteCurrentFunction") == {
        "dynamodb:GetItem": ["TOKEN#*", "USER#*"],
        "dynamodb:DeleteItem": ["TOKEN#*", "USER#*"],
    }
    assert other_actions(cfn, "SessionsDeleteCurrentFunction") == {}


def test_the_mailer_reads_accounts_writes_codes_and_sends_mail(cfn: dict[str, Any]) -> None:
    assert grants(cfn, "SignInMailerFunction") == {
        "dynamodb:GetItem": ["EMAIL#*", "USER#*"],
        "dynamodb:PutItem": ["SIGNIN#*", "USERS"],  # USERS: the directory entry of a user made before it
        "dynamodb:UpdateItem": ["USER#*"],
        "dynamodb:Query": ["USER#*"],
    }
    assert set(other_actions(cfn, "SignInMailerFunction")) == {"ses:GetEmailIdentity", "ses:SendEmail"}


def test_the_mailer_has_no_route_and_its_retries_are_on_the_alias_it_is_invoked_through(cfn: dict[str, Any]) -> None:
    assert [route.key for route in sam_template.routes() if route.function == "SignInMailerFunction"] == []
    (config,) = [
        resource["Properties"]
        for resource in cfn["Resources"].values()
        if resource["Type"] == "AWS::Lambda::EventInvokeConfig"
        and resource["Properties"]["FunctionName"] == {"Ref": "SignInMailerFunction"}
    ]
    assert config["Qualifier"] == ALIAS
    assert config["MaximumEventAgeInSeconds"] <= 15 * 60, "a link asked for longer ago than it lives is not worth it"


def test_session_days_is_a_parameter_defaulting_to_30_that_the_redeem_function_reads() -> None:
    template = sam_template.load()
    parameter = template["Parameters"]["SessionDays"]
    assert (parameter["Type"], parameter["Default"], parameter["MinValue"]) == ("Number", 30, 1)
    assert parameter["Description"]
    variables = template["Resources"]["SessionsRedeemFunction"]["Properties"]["Environment"]["Variables"]
    assert variables["SESSION_DAYS"] == {"Ref": "SessionDays"}


@pytest.mark.parametrize(
    "function",
    [
        "DestinationsCreateFunction",
        "DestinationsResendFunction",
        "AliasesCreateFunction",
        "AliasesUpdateFunction",
        "AliasesReplaceFunction",
        "DomainsCreateFunction",
        "DomainsUpdateFunction",
        "ImportCreateFunction",
    ],
)
def test_what_mails_verification_links_updates_the_rate_counters_and_only_those(
    cfn: dict[str, Any], function: str
) -> None:
    # Issue 25, decision 0112: the RATE# counters of store/link_limits.py, their own statement.
    scoped = [statement for statement in statements(cfn, function) if leading_keys(statement) == ["RATE#*"]]
    assert len(scoped) == 1
    assert scoped[0]["Action"] == ["dynamodb:UpdateItem"]


def test_admins_list_users_from_the_directory_only_and_disable_them_in_their_own_key_families(
    cfn: dict[str, Any],
) -> None:
    assert grants(cfn, "UsersListFunction") == {"dynamodb:Query": ["USERS"]}
    families = ["DEST#*", "TOKEN#*", "USER#*", "USERS"]
    assert grants(cfn, "UsersUpdateFunction") == dict.fromkeys(
        ("dynamodb:GetItem", "dynamodb:Query", "dynamodb:UpdateItem", "dynamodb:PutItem", "dynamodb:DeleteItem"),
        families,
    )
    assert other_actions(cfn, "UsersListFunction") == other_actions(cfn, "UsersUpdateFunction") == {}


def test_deleting_an_account_reaches_every_key_family_of_a_user_and_nothing_shared(cfn: dict[str, Any]) -> None:
    granted = grants(cfn, "MeDeleteFunction")
    families = granted["dynamodb:BatchWriteItem"]
    assert families is not None
    assert set(families) == {
        "USER#*",
        "USERS",
        "EMAIL#*",
        "TOKEN#*",
        "ADDRESS#*",
        "CONTACTS#*",
        "REPLY#*",
        "ACT#*",
        "FOREIGN#*",
        "THREAD#*",
        "DOMAIN#*",
        "TREE#*",
        "DEST#*",
        "VERIFY#*",
        "IDEMPOTENCY#*",
        "RATE#USER#*",
        "SIGNIN#USER#*",
        "QUAR#*",
        "MAIL#*",  # the delivery records naming the user's addresses (store.accounts.mail_of)
    }
    # Read: only whether a message was accounted for and to whom; the stored mail under its two prefixes.
    assert granted["dynamodb:BatchGetItem"] == ["MAIL#*"]
    assert "MAIL#*" not in (granted["dynamodb:Query"] or [])
    assert "SIGNIN#*" not in families  # sign-in codes are keyed by their hash: only the user's VOIDED item
    assert set(other_actions(cfn, "MeDeleteFunction")) == {
        "ses:GetEmailIdentity",
        "ses:DeleteEmailIdentity",
        "s3:ListBucket",
        "s3:DeleteObject",
    }
    s3 = {action: st for st in statements(cfn, "MeDeleteFunction") for action in st["Action"] if "s3:" in action}
    assert s3["s3:ListBucket"]["Condition"] == {"StringLike": {"s3:prefix": ["quarantine/*"]}}
    deletable = [json.dumps(resource) for resource in s3["s3:DeleteObject"]["Resource"]]
    assert len(deletable) == 2
    assert all(text.count("/quarantine/*") == 2 for text in deletable[:1])
    assert all(text.count("/inbound/*") == 2 for text in deletable[1:])
