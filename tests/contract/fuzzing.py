"""What the two contract fuzzers share: the in-process one (tests/contract/test_fuzz.py) imports this
module, and the run against the local stack (tests/e2e/test_contract_fuzz.py) loads it into the
schemathesis CLI as its hooks module (SCHEMATHESIS_HOOKS).

Every built-in check runs except `unsupported_method` (API Gateway answers 404, not 405, to a method no
route has) and `positive_data_acceptance`, which runs as `positive_data_acceptance_except_documented_refusals`.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import schemathesis
from schemathesis.specs.openapi.checks import (
    ensure_resource_availability,
    positive_data_acceptance,
    unsupported_method,
)

EXCLUDED_CHECKS = [unsupported_method, positive_data_acceptance, ensure_resource_availability]
# Operations not fuzzed: signing out revokes the token schemathesis calls with (in the local stack's run, the
# stack's own admin token), after which every other operation would only see 403s. It is tested directly
# (tests/integration/test_sessions.py, tests/e2e/test_signin.py).
EXCLUDED_OPERATIONS = ["deleteCurrentSession"]

# The two users schemathesis calls as: it sends requests as either, and replays one user's reads as the
# other (`object_level_authorization`: another user's resource must be a 404).
OWNER, PEER = "owner", "peer"


@schemathesis.check
def resource_availability_except_optional_sub_resources(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: schemathesis.Case
) -> bool | None:
    """`ensure_resource_availability`, but a destination's OpenPGP key is optional: a destination just created has
    none, so its `/pgp` answers 404 until one is put (contract: Encrypted forwarding); and a create answered as an
    Idempotency-Key's replay created nothing: it repeats an earlier request's response, whose resource may have
    been deleted since (schemathesis reuses header values and bodies, and its check only sees deletes of the
    resource the replay names as created)."""
    if response.status_code == 404 and case.path == "/api/destinations/{destination_id}/pgp":
        return None
    if response.status_code == 404 and _created_by_a_replay(ctx, case):
        return None
    return ensure_resource_availability(ctx, response, case)


def _created_by_a_replay(ctx: schemathesis.CheckContext, case: schemathesis.Case) -> bool:
    parent = ctx.internals.find_parent(case_id=case.id)
    created = ctx.internals.find_response(case_id=parent.id) if parent is not None else None
    if created is None:
        return False
    replayed = {name.lower(): values for name, values in created.headers.items()}.get("idempotent-replayed") or []
    return "true" in replayed


@schemathesis.check
def positive_data_acceptance_except_documented_refusals(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: schemathesis.Case
) -> bool | None:
    """`positive_data_acceptance`, but for the schema-valid requests the API refuses on purpose, which no
    JSON Schema can describe: a `next_token` the server never issued (400), a sign-in code the server never
    mailed (400), a new token whose `expires_at` is not in the future (422, as its field description says), a
    domain that is a public suffix (422, ditto), a reused Idempotency-Key, a stale If-Match, an unreadable import,
    and a compatible route's "not where": the caller's data decides where a password manager's alias goes; and
    an account's deletion confirmed with another address than the caller's."""
    if response.status_code == 400 and "next_token" in (case.query or {}):
        return None
    if response.status_code == 400 and case.path == "/api/sessions/redeem":
        return None
    if response.status_code == 422 and case.path == "/api/tokens" and _expiry_not_in_future(case.body):
        return None
    if response.status_code == 422 and case.path == "/api/domains" and _public_suffix(case.body):
        return None
    # An Idempotency-Key sent again with another body (schemathesis reuses header values), an If-Match naming a
    # version the resource does not have, and an import file whose rows or header postmask cannot read (its
    # schema is "a postmask export" or "a CSV": the contents are checked by the import itself).
    if response.status_code == 422 and _idempotency_key_reused(response):
        return None
    if response.status_code == 412 and "if-match" in {name.lower() for name in case.headers or {}}:
        return None
    if response.status_code == 422 and case.path == "/api/import":
        return None
    if response.status_code == 422 and case.path in (*COMPATIBLE_PATHS, "/api/me") and _not_where(response):
        return None
    # An account's deletion is confirmed by the caller's own address, which no schema can name.
    if response.status_code == 422 and case.path == "/api/me" and case.method.upper() == "DELETE":
        return None
    # An OpenPGP key is checked by reading it (decision 0028): no schema says which text is a usable key.
    if response.status_code == 422 and case.path == "/api/destinations/{destination_id}/pgp":
        return None
    # A verification link's rate limits (decision 0112): the installation's mail to that address decides.
    if response.status_code == 429 and case.path == "/api/destinations" and case.method.upper() == "POST":
        return None
    return positive_data_acceptance(ctx, response, case)


# The compatible routes (decision 0003), PATCH /api/me, and the refusals that depend on the caller's data, not on
# the request's shape (postmask.alias_defaults, postmask.compatible): a domain or destination that is not theirs
# (or not verified), no default among several, no verified destination, `format: custom` without a local part;
# and, in the compatible routes' shapes (which carry no `detail`), a reused Idempotency-Key.
COMPATIBLE_PATHS = ("/api/alias/random/new", "/api/v1/aliases")
_NOT_WHERE = (
    "is not one of your domains",
    "is not one of your destinations",
    "Idempotency-Key was used with another request",
    "You have several domains",
    "You have no domain",
    "no verified destination",
    "is not verified yet",
    "format custom needs a local_part",
)


def _not_where(response: schemathesis.Response) -> bool:
    try:
        body = response.json()
    except ValueError:
        return False
    text = str(body.get("error") or body.get("message") or "") if isinstance(body, dict) else ""
    return any(phrase in text for phrase in _NOT_WHERE)


def _idempotency_key_reused(response: schemathesis.Response) -> bool:
    try:
        detail = response.json().get("detail") or []
    except (ValueError, AttributeError):
        return False
    return any(isinstance(issue, dict) and issue.get("type") == "idempotency_key_reused" for issue in detail)


def _public_suffix(body: Any) -> bool:
    """A domain name that is a public suffix (`co.uk`): the pattern allows it, the Public Suffix List does not.
    (The package itself, not postmask.public_suffix: the schemathesis CLI loading these hooks has no layer path.)"""
    name = body.get("name") if isinstance(body, dict) else None
    return isinstance(name, str) and name.isascii() and _suffixes().is_public(name.lower())


@cache
def _suffixes() -> Any:
    from publicsuffixlist import PublicSuffixList

    return PublicSuffixList(accept_unknown=True)


def _expiry_not_in_future(body: Any) -> bool:
    expires_at = body.get("expires_at") if isinstance(body, dict) else None
    if not isinstance(expires_at, str):
        return False
    try:
        moment = datetime.fromisoformat(expires_at.replace("z", "Z"))
    except ValueError:
        return False
    return moment.tzinfo is not None and moment <= datetime.now(UTC)


@schemathesis.hook
def before_load_schema(context: schemathesis.HookContext, raw_schema: dict[str, Any]) -> None:
    """Links from a new domain to what can be done with it. Schemathesis infers the other links (an alias's
    or a token's id) from the document by itself, but not that an alias is created *on* a domain."""
    created = raw_schema.get("paths", {}).get("/api/domains", {}).get("post", {}).get("responses", {}).get("201")
    if created is None:
        return
    name = "$response.body#/name"
    created["links"] = {
        "GetDomain": {"operationId": "getDomain", "parameters": {"path.domain": name}},
        "DeleteDomain": {"operationId": "deleteDomain", "parameters": {"path.domain": name}},
        "CreateAliasOnDomain": {"operationId": "createAlias", "requestBody": {"domain": name}},
        "ListAliasesOnDomain": {"operationId": "listAliases", "parameters": {"query.domain": name}},
    }


def write_users(path: Path, tokens: dict[str, str]) -> Path:
    """A Web Fuzzing Commons auth file: each user by name, with the bearer token it calls with."""
    users = [
        {"name": name, "fixedHeaders": [{"name": "Authorization", "value": f"Bearer {token}"}]}
        for name, token in tokens.items()
    ]
    path.write_text(json.dumps({"auth": users}, indent=2), encoding="utf-8")
    return path
