"""The API's one OpenAPI document, built from every function's own resolver with Powertools' OpenAPIMerge.

    python -m scripts.openapi          (make openapi) writes functions/docs/openapi.json
    python -m scripts.openapi --check  exits 1 when the committed document is not what the code builds

The docs function packages and serves that file, so the document in production is exactly the one
committed; a test fails when the code and the committed document drift apart.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tomllib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS = ROOT / "functions"
DOCUMENT = FUNCTIONS / "docs" / "openapi.json"
_LAYER = ROOT / "layers" / "common"

TITLE = "postmask API"
DESCRIPTION = """\
E-mail aliases on your own domains: register a domain, publish the DNS records it lists, then create
aliases (`anything@your.domain`) that forward to your real mailboxes.

Every route except `GET /api/health`, `GET /api/openapi.json`, `GET /api/docs` and the sign-in routes
`POST /api/sessions` and `POST /api/sessions/redeem` takes an API token: `Authorization: Bearer <token>`
(in this page: **Authorize**). Without a token the API answers 401; with a wrong, revoked or expired one
401 or 403.

Every error has a JSON body with a `message`; a 422 also lists what was wrong in `detail` (`loc`, `msg`,
`type`). The Compatible routes answer, errors included, in the shapes of their clients' services. Lists take
`limit` (1-100) and `next_token`, and return `{"items": [...], "next_token": "..." | null}`. Another user's
resource is a 404, like a missing one.
Timestamps are ISO 8601 in UTC with a `Z` suffix.
"""
TAGS: list[dict[str, str]] = [
    {"name": "Domains", "description": "The domains you receive mail on, and where unknown addresses go."},
    {"name": "Aliases", "description": "Addresses on your domains that forward to your real mailboxes."},
    {
        "name": "Destinations",
        "description": "Your real mailboxes: mail is forwarded only to those verified by the link mailed to them.",
    },
    {
        "name": "Contacts",
        "description": "Who writes to an alias, or whom you write to from it: each has a reply address on the alias's "
        "domain; mail from a verified destination to it goes to the contact from the alias.",
    },
    {
        "name": "Import and export",
        "description": "All your data as one file, and aliases from postmask, SimpleLogin or addy.io.",
    },
    {
        "name": "Activity",
        "description": "What happened to each message (forwarded, blocked and why, ...) and per-day counts.",
    },
    {"name": "Users", "description": "Who you are; an admin creates users."},
    {"name": "Tokens", "description": "API tokens: one per device or script; revoke one and it stops working."},
    {"name": "Sessions", "description": "Signing in to the web pages with a link by e-mail, and signing out."},
    {
        "name": "Compatible",
        "description": "SimpleLogin's and addy.io's API shapes, for password managers (Bitwarden's generator) and "
        "those services' clients: answers and errors in their shapes.",
    },
    {"name": "Health", "description": "Is the API up? No token needed."},
]
# Powertools' own validation-error models: the API never returns them (postmask.api answers every 422 with
# ValidationErrorBody, whose `detail` items carry `msg`), so the document must not promise them.
_POWERTOOLS_422_REF = "#/components/schemas/HTTPValidationError"


def api_version() -> str:
    with (ROOT / "pyproject.toml").open("rb") as handle:
        version: str = tomllib.load(handle)["project"]["version"]
    return version


def build() -> dict[str, Any]:
    """The document the handlers describe today, as a JSON-ready dict."""
    if str(_LAYER) not in sys.path:
        sys.path.insert(0, str(_LAYER))  # the handlers import `postmask`, as they do from the layer in Lambda
    from aws_lambda_powertools.event_handler.openapi.merge import OpenAPIMerge

    from postmask.api import SECURITY_SCHEMES

    class StrictMerge(OpenAPIMerge):
        """OpenAPIMerge whose components are all-or-nothing: Powertools keeps the last of two different
        definitions of one schema name, which would document some route's model wrongly without a word."""

        def _merge_components(self, source: dict[str, Any], target: dict[str, dict[str, Any]]) -> None:
            for kind, components in source.items():
                for name, definition in components.items():
                    known = target.setdefault(kind, {}).setdefault(name, definition)
                    if _plain(known) != _plain(definition):
                        raise ValueError(f"two functions define components/{kind}/{name} differently")

    merge = StrictMerge(
        title=TITLE,
        version=api_version(),
        description=DESCRIPTION,
        tags=TAGS,  # type: ignore[arg-type]  # dicts validate into Powertools' Tag model
        security_schemes=SECURITY_SCHEMES,
        on_conflict="error",
    )
    merge.discover(FUNCTIONS, pattern="*/app.py")
    document: dict[str, Any] = json.loads(merge.get_openapi_json_schema())
    _describe_what_the_api_returns(document)
    return document


def _plain(value: Any) -> Any:
    from pydantic_core import to_jsonable_python

    return to_jsonable_python(value, by_alias=True, exclude_none=True)


def _describe_what_the_api_returns(document: dict[str, Any]) -> None:
    """Correct what Powertools 3.37 says by default but the API does not do."""
    for path_item in document["paths"].values():
        for operation in path_item.values():
            responses = operation["responses"]
            # Powertools adds a 422 (its own model) to every route; a route that declares its 422 replaces it
            # with ours. Where one is left, the route takes nothing that can fail validation: it never sends one.
            default_422 = responses.get("422", {}).get("content", {}).get("application/json", {}).get("schema")
            if default_422 == {"$ref": _POWERTOOLS_422_REF}:
                del responses["422"]
            # A body Powertools cannot describe (the import's JSON or CSV, read by the function itself).
            if "x-request-body" in operation:
                operation["requestBody"] = operation.pop("x-request-body")
            # A 204 has no body; `errors()` marks it with empty content, which Powertools would otherwise fill.
            for response in responses.values():
                if response.get("content") == {}:
                    del response["content"]
            operation["responses"] = dict(sorted(responses.items()))  # success first, then errors in order
    _drop_unreferenced_schemas(document)


def _drop_unreferenced_schemas(document: dict[str, Any]) -> None:
    schemas: dict[str, Any] = document.get("components", {}).get("schemas", {})
    reachable: set[str] = set()
    pending = [document["paths"]]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
                name = ref.rsplit("/", 1)[1]
                if name not in reachable:
                    reachable.add(name)
                    pending.append(schemas[name])
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
    for name in set(schemas) - reachable:
        del schemas[name]


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="fail if the committed document is out of date")
    args = parser.parse_args(argv)
    text = render(build())
    shown = os.path.relpath(DOCUMENT, ROOT)
    if args.check:
        if not DOCUMENT.exists() or DOCUMENT.read_text(encoding="utf-8") != text:
            print(f"{shown} is out of date: run make openapi", file=sys.stderr)
            return 1
        return 0
    DOCUMENT.parent.mkdir(parents=True, exist_ok=True)
    DOCUMENT.write_text(text, encoding="utf-8")
    print(f"wrote {shown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
