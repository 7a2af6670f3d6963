"""One typical, successful request per route (and for the authorizer), and the DynamoDB calls it may make.

The promises are the key design's (layers/common/postmask/store/__init__.py): a GET is one `GetItem`, a list
one `Query`, a create one `TransactWriteItems`, a change or delete of an alias or token one `GetItem` and one
transaction. The benchmark measures every scenario; tests/integration/test_call_counts.py holds every route
of template.yaml to its promise.

A route without a scenario here gets a plain request (`GET` of its path, as the caller alice) and is promised
no call when its IAM policies allow no DynamoDB action; a route of a function that may touch the table must
have a scenario and a promise here.
"""

from __future__ import annotations

import contextlib
import itertools
import json
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from bench.lambda_env import dynamodb_actions
from local import sam_template
from local.events import authorizer_event, http_event, read_result
from local.functions import FakeLambdaContext, Handler, load_handler
from postmask.auth import Caller
from postmask.schemas.aliases import AliasCreate
from postmask.store import aliases, destinations, domains, signin, tokens, users

DESTINATION = "me@real.example"
SITE = "shop.example"  # the site of seed_world's aliases, and of the mail the scenarios send them
SIGNIN_MAILER = "postmask-bench-signin-mailer"  # SIGNIN_MAILER of the driver and of every measured process


@dataclass
class World:
    """What every scenario starts from: an admin, and alice with a domain and a few aliases."""

    admin: Caller
    alice: Caller
    alice_token: str
    domain: str
    alias_ids: list[str]
    numbers: Iterator[int] = field(default_factory=itertools.count)

    def unique(self) -> int:
        """A number no other request of this world has used (names, e-mail addresses)."""
        return next(self.numbers)


def seed_world(alias_count: int = 20) -> World:
    """Seed the table (through the store itself) with what the scenarios need: alice's destination verified
    as its owner verifies it (created, then its link opened), so that her aliases' mail is forwarded."""
    stand_in_signin_mailer()
    admin = users.create("admin@bench.example", is_admin=True).user
    alice = users.create("alice@bench.example", is_admin=False)
    domain = domains.create(alice.user.id, "alice.bench.example", None).value.name
    verify_destination_through_the_store(alice.user.id, DESTINATION)
    alias_ids = [
        aliases.create(alice.user.id, _alias_body(domain, f"shop{number}")).value.id for number in range(alias_count)
    ]
    return World(
        admin=Caller(user_id=admin.id, is_admin=True),
        alice=Caller(user_id=alice.user.id, is_admin=False),
        alice_token=alice.token,
        domain=domain,
        alias_ids=alias_ids,
    )


def verify_destination_through_the_store(user_id: str, email: str) -> None:
    """`email` a verified destination of `user_id`: created, then its link opened (the link is not mailed)."""
    (link,) = destinations.create(user_id, email).new_links
    destinations.verify(link.token)


def stand_in_signin_mailer() -> None:
    """A function named SIGNIN_MAILER in moto's Lambda, so that `POST /api/sessions` can invoke it (moto
    accepts the asynchronous invocation; it cannot run the function, having no Docker, and needs not)."""
    import io
    import zipfile

    import boto3

    lambda_ = boto3.client("lambda")
    with contextlib.suppress(lambda_.exceptions.ResourceNotFoundException):
        lambda_.get_function(FunctionName=SIGNIN_MAILER)
        return
    iam = boto3.client("iam")
    with contextlib.suppress(iam.exceptions.EntityAlreadyExistsException):
        iam.create_role(RoleName="postmask-bench", AssumeRolePolicyDocument="{}")
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("app.py", "def lambda_handler(event, context):\n    return None\n")
    lambda_.create_function(
        FunctionName=SIGNIN_MAILER,
        Runtime="python3.13",
        Role=iam.get_role(RoleName="postmask-bench")["Role"]["Arn"],
        Handler="app.lambda_handler",
        Code={"ZipFile": code.getvalue()},
    )


def _ses_can_send_for(world: World) -> None:
    """SES (moto) knows alice's domain, as POST /api/domains made it (tagged with the stack: decision 0076): the
    routes that mail a verification link can send from it."""
    from postmask import ses

    ses.client.cache_clear()
    ses.create_domain_identity(world.domain)  # one that exists is left as it is
    ses.forget_verifications()


def _alias_body(domain: str, local_part: str | None = None) -> AliasCreate:
    # Given to the site the scenarios' mail comes from (shop.example): leak detection has nothing to learn.
    return AliasCreate(domain=domain, local_part=local_part, destinations=[DESTINATION], note="bench", site=SITE)


@dataclass(frozen=True)
class Invocation:
    """One event for one function."""

    function: str  # logical id in template.yaml
    event: dict[str, Any]


MakeInvocation = Callable[[World], Invocation]


@dataclass(frozen=True)
class Scenario:
    name: str  # the route key ("GET /api/aliases/{alias_id}"), or what the authorizer is doing
    make: MakeInvocation  # seeds what this one request needs (a fresh alias to delete...) and builds it
    promised: Counter[str] | None  # DynamoDB operation -> calls; None: nobody has promised anything
    route_key: str | None  # None: the authorizer, or `function_id`
    declared: bool = True  # False: the plain request of a route nobody wrote a scenario for
    function_id: str | None = None  # a function that no route invokes (the forwarder)

    def function(self, template: dict[str, Any] | None = None) -> str:
        """The logical id of the function this scenario invokes."""
        if self.function_id is not None:
            return self.function_id
        if self.route_key is None:
            return authorizer_function(template)
        return next(route.function for route in sam_template.routes(template) if route.key == self.route_key)


def authorizer_function(template: dict[str, Any] | None = None) -> str:
    """The logical id of the API's default authorizer's function."""
    api = (template or sam_template.load())["Resources"]["Api"]["Properties"]["Auth"]
    arn = api["Authorizers"][api["DefaultAuthorizer"]]["FunctionArn"]
    if "Fn::GetAtt" in arn:  # !GetAtt AuthorizerFunction.Arn
        return str(arn["Fn::GetAtt"][0])
    return str(arn["Ref"]).split(".")[0]  # !Ref AuthorizerFunction.Alias


def api_event(
    route_key: str,
    path: str,
    caller: Caller | None,
    *,
    body: Any = None,
    query: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> Invocation:
    """The event API Gateway hands a route's function once the authorizer let `caller` through."""
    route = next(route for route in sam_template.routes() if route.key == route_key)
    params = route.match(route.method, path)
    assert params is not None, f"{path} is not a path of {route_key}"
    all_headers = {"host": "api.bench", "user-agent": "bench", **(headers or {})}
    if body is not None:
        all_headers["content-type"] = "application/json"
    event = http_event(
        route.method,
        path,
        query_string=urlencode(query or {}),
        headers=all_headers,
        body=json.dumps(body) if body is not None else None,
        path_parameters=params,
        route_key=route.key,
        authorizer=caller.context() if caller is not None else None,
    )
    return Invocation(route.function, event)


_SCENARIOS: dict[str, Scenario] = {}
_METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY"}


def _scenario(name: str, **promised: int) -> Callable[[MakeInvocation], MakeInvocation]:
    route_key = name if name.split(" ", 1)[0] in _METHODS else None

    def register(make: MakeInvocation) -> MakeInvocation:
        _SCENARIOS[name] = Scenario(name, make, Counter(promised), route_key)
        return make

    return register


# --- the authorizer: a token's first use in five minutes writes last_used_at (decision 0002) ---------------

AUTHORIZER_FIRST_USE = "authorizer (first use in 5 min)"
AUTHORIZER_AGAIN = "authorizer (used again)"


def _authorizer_invocation(token: str) -> Invocation:
    request = http_event("GET", "/api/me", headers={"authorization": f"Bearer {token}"}, route_key="GET /api/me")
    return Invocation(authorizer_function(), authorizer_event(request))


@_scenario(AUTHORIZER_FIRST_USE, GetItem=1, TransactWriteItems=1)
def _authorize_first_use(world: World) -> Invocation:
    # Requests to postmask are sporadic: most of them are a token's first use in five minutes.
    return _authorizer_invocation(tokens.create(world.alice, f"bench {world.unique()}", None).token)


@_scenario(AUTHORIZER_AGAIN, GetItem=1)
def _authorize_again(world: World) -> Invocation:
    tokens.authenticate(world.alice_token)  # used a moment ago: last_used_at is fresh
    return _authorizer_invocation(world.alice_token)


# --- routes -------------------------------------------------------------------------------------------------


@_scenario("GET /api/health")
def _health(world: World) -> Invocation:
    return api_event("GET /api/health", "/api/health", None)


@_scenario("GET /api/me", GetItem=1)
def _me(world: World) -> Invocation:
    return api_event("GET /api/me", "/api/me", world.alice)


@_scenario("POST /api/users", TransactWriteItems=1)
def _create_user(world: World) -> Invocation:
    body = {"email": f"user{world.unique()}@bench.example"}
    return api_event("POST /api/users", "/api/users", world.admin, body=body)


@_scenario("GET /api/users", Query=1)  # the admins' directory (decision 0041)
def _list_users(world: World) -> Invocation:
    return api_event("GET /api/users", "/api/users", world.admin)


# The user, the directory and the account item in one transaction; then the tokens (one here), one update each.
@_scenario("PATCH /api/users/{user_id}", GetItem=1, TransactWriteItems=1, Query=1, UpdateItem=1)
def _disable_user(world: World) -> Invocation:
    user = users.create(f"off{world.unique()}@bench.example", is_admin=False).user
    return api_event("PATCH /api/users/{user_id}", f"/api/users/{user.id}", world.admin, body={"disabled": True})


# A user with nothing but their first token: the profile, one Query per partition of theirs (aliases, domains,
# destinations, activity, idempotency records, new-destination counters, quarantine, tokens, the rest), then the
# sign-in VOIDED item (always named), the token and the account's own items. With forwarding on (a mail bucket) the
# stored mail goes first: one Query more (the activity's message ids), then per 100 messages one BatchGetItem (were
# they accounted for, and to whom) and the MAIL# records' BatchWriteItems; none for a user without mail.
@_scenario("DELETE /api/me", GetItem=1, Query=9, BatchWriteItem=3)
def _delete_me(world: World) -> Invocation:
    email = f"leaving{world.unique()}@bench.example"
    user = users.create(email, is_admin=False).user
    return api_event("DELETE /api/me", "/api/me", Caller(user_id=user.id, is_admin=False), body={"confirm": email})


@_scenario("PATCH /api/me", BatchGetItem=1, UpdateItem=1)  # the destinations must be hers, then the profile
def _update_me(world: World) -> Invocation:
    body = {"alias_style": "random", "default_alias_destinations": [DESTINATION]}
    return api_event("PATCH /api/me", "/api/me", world.alice, body=body)


# The compatible routes (decision 0003), as Bitwarden calls them for a user who set no defaults: the profile and
# the domains' names (one Query), the oldest verified destination (one Query), the alias (one transaction).
@_scenario("POST /api/alias/random/new", Query=2, TransactWriteItems=1)
def _simplelogin_alias(world: World) -> Invocation:
    body = {"note": "Website: www.shop.example. Generated by Bitwarden."}
    query = {"hostname": "www.shop.example"}
    return api_event("POST /api/alias/random/new", "/api/alias/random/new", world.alice, body=body, query=query)


@_scenario("POST /api/v1/aliases", Query=2, TransactWriteItems=1)
def _addy_alias(world: World) -> Invocation:
    body = {"domain": world.domain, "description": "Website: www.shop.example. Generated by Bitwarden."}
    return api_event("POST /api/v1/aliases", "/api/v1/aliases", world.alice, body=body)


@_scenario("GET /api/tokens", Query=1)
def _list_tokens(world: World) -> Invocation:
    return api_event("GET /api/tokens", "/api/tokens", world.alice)


@_scenario("POST /api/tokens", TransactWriteItems=1)
def _create_token(world: World) -> Invocation:
    return api_event("POST /api/tokens", "/api/tokens", world.alice, body={"name": f"bench {world.unique()}"})


@_scenario("DELETE /api/tokens/{token_id}", GetItem=1, TransactWriteItems=1)
def _delete_token(world: World) -> Invocation:
    token = tokens.create(world.alice, f"doomed {world.unique()}", None)
    return api_event("DELETE /api/tokens/{token_id}", f"/api/tokens/{token.id}", world.alice)


@_scenario("GET /api/domains", Query=1)
def _list_domains(world: World) -> Invocation:
    return api_event("GET /api/domains", "/api/domains", world.alice)


@_scenario("POST /api/domains", Query=1, TransactWriteItems=1)  # the domain's tree, then the records
def _create_domain(world: World) -> Invocation:
    # A tree (registrable domain) of its own: the floor replays the transaction recorded in a dry run, whose
    # condition is on the tree's version as read then; a domain created in the same tree since would fail it.
    number = world.unique()
    body = {"name": f"d{number}.bench{number}.example"}
    return api_event("POST /api/domains", "/api/domains", world.alice, body=body)


@_scenario("GET /api/domains/{domain}", GetItem=1)
def _get_domain(world: World) -> Invocation:
    return api_event("GET /api/domains/{domain}", f"/api/domains/{world.domain}", world.alice)


@_scenario("PATCH /api/domains/{domain}", TransactWriteItems=1, GetItem=1)
def _update_domain(world: World) -> Invocation:
    # A domain of its own for each request, as for the changes below: the floor replays the transaction a dry
    # run recorded, with its conditions on what the item held then (a request made since would fail them).
    name = domains.create(world.alice.user_id, f"patched{world.unique()}.bench.example", None).value.name
    body = {"catch_all_destination": DESTINATION}
    return api_event("PATCH /api/domains/{domain}", f"/api/domains/{name}", world.alice, body=body)


@_scenario("DELETE /api/domains/{domain}", GetItem=1, TransactWriteItems=1)
def _delete_domain(world: World) -> Invocation:
    name = domains.create(world.alice.user_id, f"doomed{world.unique()}.bench.example", None).value.name
    return api_event("DELETE /api/domains/{domain}", f"/api/domains/{name}", world.alice)


@_scenario("DELETE /api/admin/domains/{domain}", GetItem=1, TransactWriteItems=1)  # the owner, then the records
def _remove_domain(world: World) -> Invocation:
    name = domains.create(world.alice.user_id, f"removed{world.unique()}.bench.example", None).value.name
    return api_event("DELETE /api/admin/domains/{domain}", f"/api/admin/domains/{name}", world.admin)


@_scenario("GET /api/aliases", Query=1)
def _list_aliases(world: World) -> Invocation:
    return api_event("GET /api/aliases", "/api/aliases", world.alice)


# A random local part: in the user's alias style, read from the profile (one GetItem of that attribute).
@_scenario("POST /api/aliases", GetItem=1, TransactWriteItems=1)
def _create_alias(world: World) -> Invocation:
    body = {"domain": world.domain, "destinations": [DESTINATION], "note": "bench"}  # a random local part
    return api_event("POST /api/aliases", "/api/aliases", world.alice, body=body)


@_scenario("GET /api/aliases/{alias_id}", GetItem=1)
def _get_alias(world: World) -> Invocation:
    return api_event("GET /api/aliases/{alias_id}", f"/api/aliases/{world.alias_ids[0]}", world.alice)


@_scenario("PUT /api/aliases/{alias_id}", GetItem=1, TransactWriteItems=1)
def _replace_alias(world: World) -> Invocation:
    alias = aliases.create(world.alice.user_id, _alias_body(world.domain)).value
    body = {"destinations": [DESTINATION], "note": "replaced", "enabled": True, "expires_at": None}
    return api_event("PUT /api/aliases/{alias_id}", f"/api/aliases/{alias.id}", world.alice, body=body)


@_scenario("PATCH /api/aliases/{alias_id}", GetItem=1, TransactWriteItems=1)
def _update_alias(world: World) -> Invocation:
    alias = aliases.create(world.alice.user_id, _alias_body(world.domain)).value
    body = {"note": "patched"}
    return api_event("PATCH /api/aliases/{alias_id}", f"/api/aliases/{alias.id}", world.alice, body=body)


@_scenario("DELETE /api/aliases/{alias_id}", GetItem=1, TransactWriteItems=1)
def _delete_alias(world: World) -> Invocation:
    alias = aliases.create(world.alice.user_id, _alias_body(world.domain)).value
    return api_event("DELETE /api/aliases/{alias_id}", f"/api/aliases/{alias.id}", world.alice)


# Bulk: the caller's aliases in one BatchGetItem, the changes in one transaction (up to ~45 aliases each).
@_scenario("POST /api/aliases/bulk", BatchGetItem=1, TransactWriteItems=1)
def _bulk_disable(world: World) -> Invocation:
    ids = [aliases.create(world.alice.user_id, _alias_body(world.domain)).value.id for _ in range(3)]
    body = {"action": "disable", "ids": ids}
    return api_event("POST /api/aliases/bulk", "/api/aliases/bulk", world.alice, body=body)


# Export: one Query per partition read (domains, destinations, aliases), one more per megabyte of each; then one
# per alias for its contacts (CONTACTS#<alias_id>): a user of their own with three aliases, whatever else the
# world's user has made by now.
@_scenario("GET /api/export", Query=6)
def _export(world: World) -> Invocation:
    number = world.unique()
    user = users.create(f"export{number}@bench.example", is_admin=False).user
    domain = domains.create(user.id, f"export{number}.bench.example", None).value.name
    verify_destination_through_the_store(user.id, DESTINATION)
    for local_part in ("a", "b", "c"):
        aliases.create(user.id, _alias_body(domain, local_part))
    return api_event("GET /api/export", "/api/export", Caller(user_id=user.id, is_admin=False))


# Import of a few rows: the caller's domains (Query), who holds the addresses and which destinations the caller
# has (a BatchGetItem each per 100 rows), whether the destinations' domains are registered in postmask (a
# BatchGetItem of the markers not looked up yet), the quota (the profile), one transaction per ~45 new aliases.
@_scenario("POST /api/import", Query=1, BatchGetItem=3, GetItem=1, TransactWriteItems=1)
def _import(world: World) -> Invocation:
    batch = world.unique()
    rows = "".join(f"import{batch}x{number}@{world.domain},imported,True,{DESTINATION}\r\n" for number in range(3))
    event = api_event("POST /api/import", "/api/import", world.alice).event
    event["headers"]["content-type"] = "text/csv"
    event["body"] = "alias,note,enabled,mailboxes\r\n" + rows
    return Invocation("ImportCreateFunction", event)


@_scenario("GET /api/activity", Query=1)
def _list_activity(world: World) -> Invocation:
    return api_event("GET /api/activity", "/api/activity", world.alice)


@_scenario("GET /api/stats", Query=1)
def _get_stats(world: World) -> Invocation:
    return api_event("GET /api/stats", "/api/stats", world.alice)


# Contacts (decision 0110): every route reads the caller's alias (one GetItem, or with the contact in one
# BatchGetItem), then one Query or one transaction.
def _new_contact(world: World) -> str:
    from postmask.store import contacts

    return contacts.create(world.alice.user_id, world.alias_ids[0], f"c{world.unique()}@outside.example", None).id


def _contacts_path(world: World, contact_id: str | None = None) -> str:
    path = f"/api/aliases/{world.alias_ids[0]}/contacts"
    return f"{path}/{contact_id}" if contact_id else path


@_scenario("GET /api/aliases/{alias_id}/contacts", GetItem=1, Query=1)
def _list_contacts(world: World) -> Invocation:
    _new_contact(world)
    return api_event("GET /api/aliases/{alias_id}/contacts", _contacts_path(world), world.alice)


@_scenario("POST /api/aliases/{alias_id}/contacts", GetItem=1, TransactWriteItems=1)
def _create_contact(world: World) -> Invocation:
    body = {"email": f"new{world.unique()}@outside.example", "name": "New"}
    return api_event("POST /api/aliases/{alias_id}/contacts", _contacts_path(world), world.alice, body=body)


@_scenario("GET /api/aliases/{alias_id}/contacts/{contact_id}", BatchGetItem=1)
def _get_contact(world: World) -> Invocation:
    route = "GET /api/aliases/{alias_id}/contacts/{contact_id}"
    return api_event(route, _contacts_path(world, _new_contact(world)), world.alice)


@_scenario("PATCH /api/aliases/{alias_id}/contacts/{contact_id}", BatchGetItem=1, TransactWriteItems=1)
def _update_contact(world: World) -> Invocation:
    route = "PATCH /api/aliases/{alias_id}/contacts/{contact_id}"
    return api_event(route, _contacts_path(world, _new_contact(world)), world.alice, body={"blocked": True})


@_scenario("DELETE /api/aliases/{alias_id}/contacts/{contact_id}", BatchGetItem=1, TransactWriteItems=1)
def _delete_contact(world: World) -> Invocation:
    route = "DELETE /api/aliases/{alias_id}/contacts/{contact_id}"
    return api_event(route, _contacts_path(world, _new_contact(world)), world.alice)


@_scenario("POST /api/sessions", GetItem=1, PutItem=1)
def _ask_for_a_sign_in_link(world: World) -> Invocation:
    # The address's link count (read, then a conditional write), then the mailer is invoked: no user is read.
    # An address of its own for each request: the floor replays the count's conditional write as a dry run
    # recorded it (the route answers the same whether an account has the address or not).
    return api_event(
        "POST /api/sessions", "/api/sessions", None, body={"email": f"visitor{world.unique()}@bench.example"}
    )


@_scenario("POST /api/sessions/redeem", GetItem=1, TransactWriteItems=1)
def _redeem_a_sign_in_code(world: World) -> Invocation:
    code = signin.new_code(world.alice.user_id, world.alice.is_admin)
    return api_event("POST /api/sessions/redeem", "/api/sessions/redeem", None, body={"code": code})


@_scenario("DELETE /api/sessions/current", GetItem=1, TransactWriteItems=1)
def _sign_out(world: World) -> Invocation:
    token = tokens.create(world.alice, f"session {world.unique()}", None)
    caller = Caller(user_id=world.alice.user_id, is_admin=world.alice.is_admin, token_id=token.id)
    return api_event("DELETE /api/sessions/current", "/api/sessions/current", caller)


# A destination: its status read in one go by the forwarder; a new one costs the sender lookup (the caller's
# domains, one Query) besides its transaction, and its link's count on the address's limits (one more transaction,
# decision 0112); a resend reads it first (4 calls: the two routes above two).
@_scenario("GET /api/destinations", Query=1)
def _list_destinations(world: World) -> Invocation:
    return api_event("GET /api/destinations", "/api/destinations", world.alice)


@_scenario("POST /api/destinations", TransactWriteItems=2, Query=1)
def _create_destination(world: World) -> Invocation:
    _ses_can_send_for(world)
    body = {"email": f"new{world.unique()}@real.example"}
    return api_event("POST /api/destinations", "/api/destinations", world.alice, body=body)


@_scenario("GET /api/destinations/{destination_id}", GetItem=1)
def _get_destination(world: World) -> Invocation:
    destination_id = destinations.destination_id(world.alice.user_id, DESTINATION)
    return api_event("GET /api/destinations/{destination_id}", f"/api/destinations/{destination_id}", world.alice)


@_scenario("POST /api/destinations/{destination_id}/resend", GetItem=1, Query=1, TransactWriteItems=2)
def _resend_link(world: World) -> Invocation:
    _ses_can_send_for(world)
    created = destinations.create(world.alice.user_id, f"late{world.unique()}@real.example").value
    route = "POST /api/destinations/{destination_id}/resend"
    return api_event(route, f"/api/destinations/{created.id}/resend", world.alice)


@_scenario("DELETE /api/destinations/{destination_id}", DeleteItem=1)
def _delete_destination(world: World) -> Invocation:
    doomed = destinations.create(world.alice.user_id, f"doomed{world.unique()}@real.example").value
    return api_event("DELETE /api/destinations/{destination_id}", f"/api/destinations/{doomed.id}", world.alice)


@_scenario("POST /api/destinations/verify", GetItem=1, UpdateItem=1)
def _verify_destination(world: World) -> Invocation:
    (link,) = destinations.create(world.alice.user_id, f"click{world.unique()}@real.example").new_links
    return api_event("POST /api/destinations/verify", "/api/destinations/verify", None, body={"token": link.token})


# A destination's OpenPGP key (decision 0028): on the destination item, one call each.
def _bench_key() -> str:
    """An armored Curve25519 public key (Sequoia makes it: the scenarios need no gpg)."""
    import pysequoia

    return str(pysequoia.Tsk.generate("Bench <key@real.example>").extract_certificate())


def _keyed_destination(world: World) -> str:
    """A new destination of alice's with a key; its id."""
    from postmask import openpgp
    from postmask.store import pgp_keys

    created = destinations.create(world.alice.user_id, f"keyed{world.unique()}@real.example").value
    pgp_keys.put(world.alice.user_id, created.id, openpgp.inspect(_bench_key()), "quarantine")
    return created.id


@_scenario("PUT /api/destinations/{destination_id}/pgp", UpdateItem=1)
def _put_destination_key(world: World) -> Invocation:
    created = destinations.create(world.alice.user_id, f"pgp{world.unique()}@real.example").value
    route = "PUT /api/destinations/{destination_id}/pgp"
    body = {"public_key": _bench_key()}
    return api_event(route, f"/api/destinations/{created.id}/pgp", world.alice, body=body)


@_scenario("GET /api/destinations/{destination_id}/pgp", GetItem=1)
def _get_destination_key(world: World) -> Invocation:
    route = "GET /api/destinations/{destination_id}/pgp"
    return api_event(route, f"/api/destinations/{_keyed_destination(world)}/pgp", world.alice)


@_scenario("DELETE /api/destinations/{destination_id}/pgp", UpdateItem=1)
def _delete_destination_key(world: World) -> Invocation:
    route = "DELETE /api/destinations/{destination_id}/pgp"
    return api_event(route, f"/api/destinations/{_keyed_destination(world)}/pgp", world.alice)


# --- quarantine (decision 0025): a copy of alice's the forwarder gave up, in her own partition --------------------


def _quarantined(world: World) -> str:
    """A new message from a contact of alice's first alias, stored as SES stores it and quarantined for her
    verified destination as the forwarder quarantines a copy SES refused (postmask.quarantine.hold); its id."""
    from postmask import clock, quarantine
    from postmask.store import contacts
    from postmask.store import quarantine as held_copies

    address, sender = f"shop0@{world.domain}", f"known{world.unique()}@{SITE}"
    contacts.create(world.alice.user_id, world.alias_ids[0], sender, None)  # the forwarder met it on its first try
    message_id, _ = _stored_mail(world, address, sender)
    copy = quarantine.Copy(
        user_id=world.alice.user_id,
        message_id=message_id,
        address=address,
        alias_id=world.alias_ids[0],
        destination=DESTINATION,
        at=clock.now_iso(),
        sender=sender,
        envelope_sender=sender,
        subject="hi",
    )
    if not quarantine.hold(copy, quarantine.Reason.REJECTED):
        raise RuntimeError(f"{message_id}: quarantined before")
    return held_copies.quarantine_id(copy.at, copy.message_id, copy.address, copy.destination)


@_scenario("GET /api/quarantine", Query=1)  # the caller's partition, newest first (no alias_id: no alias read)
def _list_quarantine(world: World) -> Invocation:
    _quarantined(world)
    return api_event("GET /api/quarantine", "/api/quarantine", world.alice)


@_scenario("GET /api/quarantine/{quarantine_id}", GetItem=1)
def _get_quarantined(world: World) -> Invocation:
    route = "GET /api/quarantine/{quarantine_id}"
    return api_event(route, f"/api/quarantine/{_quarantined(world)}", world.alice)


# Read the copy (GetItem); in one BatchGetItem its destination's status and OpenPGP key, the alias's route (encrypt,
# trackers) and the sender's contact for the Reply-To (a known sender: no transaction); the message's loop marker
# (conditional PutItem: the forwarder's token when it wrote one) and the delivery ledger's claim (PutItem); the
# claim's completion and resent_to (UpdateItem).
@_scenario("POST /api/quarantine/{quarantine_id}/resend", GetItem=1, BatchGetItem=1, PutItem=2, UpdateItem=2)
def _resend_quarantined(world: World) -> Invocation:
    route = "POST /api/quarantine/{quarantine_id}/resend"
    return api_event(route, f"/api/quarantine/{_quarantined(world)}/resend", world.alice)


@_scenario("DELETE /api/quarantine/{quarantine_id}", DeleteItem=1)  # conditional, returning what it held (its object)
def _delete_quarantined(world: World) -> Invocation:
    route = "DELETE /api/quarantine/{quarantine_id}"
    return api_event(route, f"/api/quarantine/{_quarantined(world)}", world.alice)


# --- the forwarder: per recipient its route, per message one read of its destinations' status ----------------
# One message per distinct case of the key design's promise (store/__init__.py: "forwarder, per message",
# "contacts", "the reply path", "activity" and its leak detection), contacts, activity and leak detection on as
# deployed. The messages name no Message-ID nor In-Reply-To: no thread records are read or written.

FORWARDER = "ForwarderFunction"
FORWARDER_KNOWN = "forwarder: from the alias's site, a known sender"
FORWARDER_VERIFIED = "forwarder: from the alias's site, a new sender"
FORWARDER_SITE = "forwarder: the first message, its site inferred"
FORWARDER_FOREIGN = "forwarder: a foreign sender, the leak notice"
FORWARDER_BLOCKED = "forwarder: a foreign sender, blocked"
FORWARDER_REPLY = "forwarder: a reply through a reply address"
FORWARDER_PENDING = "forwarder: its only destination pending"
FORWARDER_FIRST_RECEIPT = "forwarder: a catch-all's new address, its alias created on first receipt"
MAIL_BUCKET = "postmask-bench-calls-mail"


def _mail_event(world: World, recipient: str, sender: str | None = None) -> Invocation:
    """Mail to `recipient` as SES delivers it: stored in the mail bucket, and the receipt rule's event. The sender
    is someone new on the alias's site unless given."""
    from local.ses import receipt_event

    sender = sender or f"news{world.unique()}@{SITE}"
    message_id, stored = _stored_mail(world, recipient, sender)
    event = receipt_event(stored, message_id=message_id, envelope_sender=sender, recipients=[recipient])
    return Invocation(FORWARDER, event)


def _stored_mail(world: World, recipient: str, sender: str) -> tuple[str, bytes]:
    """Mail from `sender` to `recipient` stored in the mail bucket as SES stores it (the functions pointed at the
    bucket, SES able to send from alice's domain); its SES message id and stored bytes."""
    import os

    import boto3

    from local.resources import create_bucket
    from local.ses import new_message_id, stored_message
    from postmask.mail import inbox
    from postmask.settings import get_settings

    _ses_can_send_for(world)
    create_bucket(MAIL_BUCKET)
    s3 = boto3.client("s3")
    os.environ["MAIL_BUCKET"] = MAIL_BUCKET
    os.environ["MAIL_PREFIX"] = "inbound/"
    os.environ.setdefault("PUBLIC_URL", "https://postmask.bench.example")  # the links in a leak notice
    get_settings.cache_clear()
    inbox.s3.cache_clear()
    message_id = new_message_id()
    content = f"From: {sender}\r\nTo: {recipient}\r\nSubject: hi\r\n\r\nhello\r\n".encode()
    stored = stored_message(content, message_id=message_id, envelope_sender=sender, recipients=[recipient])
    s3.put_object(Bucket=MAIL_BUCKET, Key=f"inbound/{message_id}", Body=stored)
    return message_id, stored


def _forwarder_scenario(name: str, **promised: int) -> Callable[[MakeInvocation], MakeInvocation]:
    def register(make: MakeInvocation) -> MakeInvocation:
        _FORWARDER_SCENARIOS[name] = Scenario(name, make, Counter(promised), None, function_id=FORWARDER)
        return make

    return register


_FORWARDER_SCENARIOS: dict[str, Scenario] = {}


def _new_alias(world: World, **fields: Any) -> str:
    """A new alias of alice's to her verified destination (site and the rest as `fields` say); its address."""
    local_part = f"case{world.unique()}"
    body = AliasCreate(domain=world.domain, local_part=local_part, destinations=[DESTINATION], **fields)
    aliases.create(world.alice.user_id, body)
    return f"{local_part}@{world.domain}"


# A catch-all's address with no alias (decision 0046): the route and the domain's marker (two GetItem), the new
# alias (one TransactWriteItems), then the first message of an alias given no site (as FORWARDER_SITE).
@_forwarder_scenario(FORWARDER_FIRST_RECEIPT, GetItem=2, BatchGetItem=1, PutItem=3, UpdateItem=1, TransactWriteItems=5)
def _forward_first_receipt(world: World) -> Invocation:
    from postmask.store import _dynamo
    from postmask.store.domains import _marker_pk

    _dynamo.client().update_item(
        TableName=_dynamo.table(),
        Key=_dynamo.key(_marker_pk(world.domain), "DOMAIN"),
        UpdateExpression="SET catch_all_destination = :destination",
        ExpressionAttributeValues=_dynamo.values({":destination": DESTINATION}),
    )
    return _mail_event(world, f"first{world.unique()}@{world.domain}")


# Every forwarded message: the route (GetItem); the destinations' status and the sender's contact (one
# BatchGetItem); the loop marker, the copy's claim and, once every recipient ended, the message's ACCOUNTED record
# for the daily reconciliation (PutItem, decision 0026; every case below has it); the claim's completion
# (UpdateItem); the count and the copy's activity event (two TransactWriteItems: the count, and the event with its
# alias's copy and the day's count).
@_forwarder_scenario(FORWARDER_KNOWN, GetItem=1, BatchGetItem=1, PutItem=3, UpdateItem=1, TransactWriteItems=2)
def _forward_from_known_sender(world: World) -> Invocation:
    from postmask.store import contacts

    sender = f"known{world.unique()}@{SITE}"
    contacts.create(world.alice.user_id, world.alias_ids[0], sender, None)
    return _mail_event(world, f"shop0@{world.domain}", sender=sender)


@_forwarder_scenario(FORWARDER_VERIFIED, GetItem=1, BatchGetItem=1, PutItem=3, UpdateItem=1, TransactWriteItems=3)
def _forward_to_verified(world: World) -> Invocation:
    # As above, and one transaction more: the new contact (decision 0110).
    return _mail_event(world, f"shop0@{world.domain}")


@_forwarder_scenario(FORWARDER_SITE, GetItem=1, BatchGetItem=1, PutItem=3, UpdateItem=1, TransactWriteItems=4)
def _forward_and_infer_site(world: World) -> Invocation:
    # An alias given no site: its first forwarded sender names it, one transaction (the alias and its route), once.
    return _mail_event(world, _new_alias(world))


@_forwarder_scenario(FORWARDER_FOREIGN, GetItem=2, BatchGetItem=1, PutItem=3, UpdateItem=2, TransactWriteItems=4)
def _forward_from_foreign_sender(world: World) -> Invocation:
    # A sender off the alias's site, its first: counted (one transaction, leak_suspected set), the alias's one notice
    # claimed (a conditional UpdateItem) and mailed to the owner's e-mail (read with one GetItem); forwarded.
    return _mail_event(world, _new_alias(world, site=SITE), sender=f"spam{world.unique()}@elsewhere.example")


@_forwarder_scenario(FORWARDER_BLOCKED, GetItem=1, PutItem=1, UpdateItem=1, TransactWriteItems=3)
def _block_foreign_sender(world: World) -> Invocation:
    # An alias that takes mail from its site only (block_foreign_senders), its notice sent already: a new foreign
    # sender is counted (one transaction), the notice's claim refused by its condition (UpdateItem); blocked, no
    # destination nor contact read: the count and the event (two transactions).
    from postmask import clock
    from postmask.store import leaks, routes

    address = _new_alias(world, site=SITE, block_foreign_senders=True)
    route = routes.get(address)
    if route is None or not leaks.claim_notice(route, clock.now_iso()):
        raise RuntimeError(f"{address}: no route, or its notice claimed before")
    return _mail_event(world, address, sender=f"spam{world.unique()}@elsewhere.example")


@_forwarder_scenario(FORWARDER_REPLY, GetItem=2, BatchGetItem=1, PutItem=3, UpdateItem=1, TransactWriteItems=2)
def _reply_to_contact(world: World) -> Invocation:
    # The destination writes to a contact's reply address. GetItem: the reply address, the alias's route;
    # BatchGetItem: the sender's status as a destination; PutItem: the reply copy's loop marker and the claim;
    # UpdateItem: the claim's completion;
    # TransactWriteItems: the count on the contact, and the reply's activity event (sent).
    from postmask.store import contacts

    contact = contacts.create(world.alice.user_id, world.alias_ids[0], f"contact{world.unique()}@outside.example", None)
    return _mail_event(world, contact.reply_address, sender=DESTINATION)


@_forwarder_scenario(FORWARDER_PENDING, GetItem=1, BatchGetItem=1, PutItem=1, TransactWriteItems=1)  # skip event
def _forward_to_pending(world: World) -> Invocation:
    local_part = f"pending{world.unique()}"
    body = AliasCreate(
        domain=world.domain, local_part=local_part, destinations=[f"{local_part}@real.example"], site=SITE
    )
    aliases.create(world.alice.user_id, body)
    return _mail_event(world, f"{local_part}@{world.domain}")


def forwarder_scenarios(template: dict[str, Any] | None = None) -> list[Scenario]:
    """The forwarder's scenarios, when the template has it (EnableForwarding)."""
    return list(_FORWARDER_SCENARIOS.values()) if FORWARDER in sam_template.functions(template) else []


# --- every route of the template ------------------------------------------------------------------------------


def _default(route: sam_template.Route, template: dict[str, Any]) -> Scenario:
    """A route nobody wrote a scenario for: a plain GET of its path; no call promised if it cannot make any."""
    path = route.path
    for name in route.pattern.groupindex:
        path = path.replace(f"{{{name}+}}", "bench").replace(f"{{{name}}}", "bench")
    may_call = bool(dynamodb_actions(template["Resources"][route.function]["Properties"]))

    def make(world: World) -> Invocation:
        return api_event(route.key, path, None if route.public else world.alice)

    return Scenario(route.key, make, None if may_call else Counter(), route.key, declared=False)


def scenarios(template: dict[str, Any] | None = None) -> list[Scenario]:
    """The authorizer's scenarios, then one per route of the template (in the template's order)."""
    template = template or sam_template.load()
    found = [_SCENARIOS[AUTHORIZER_FIRST_USE], _SCENARIOS[AUTHORIZER_AGAIN]]
    in_template_order = sorted(
        sam_template.routes(template), key=lambda route: list(template["Resources"]).index(route.function)
    )
    return found + [_SCENARIOS.get(route.key) or _default(route, template) for route in in_template_order]


def handler_of(function: str) -> Handler:
    """The handler of a function of the template, imported as the local stack imports it."""
    props = sam_template.functions()[function]["Properties"]
    return load_handler(sam_template.ROOT / props["CodeUri"], props["Handler"])


def invoke(invocation: Invocation) -> int:
    """Run the invocation in this process; the HTTP status API Gateway would answer (an authorizer's "no": 403)."""
    result = handler_of(invocation.function)(invocation.event, FakeLambdaContext(invocation.function))
    if isinstance(result, dict) and "isAuthorized" in result:
        return 200 if result["isAuthorized"] else 403
    return read_result(result).status
