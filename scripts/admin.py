"""Create the first admin of a deployed stack and print their token (`make admin EMAIL=... [STACK=...]`).

Runs with your AWS credentials: it finds the table in the stack's outputs and writes the user directly,
since no one can call `POST /api/users` before an admin exists.
"""

from __future__ import annotations

import argparse
import os
import sys
import tomllib
from pathlib import Path

import boto3

from postmask.errors import EmailTaken
from postmask.schemas.users import UserCreate
from postmask.settings import get_settings

SAMCONFIG = Path(__file__).resolve().parent.parent / "samconfig.toml"


def _samconfig(key: str, samconfig: Path) -> str | None:
    """`key` as `sam deploy` reads it from samconfig.toml (its deploy section, then its global one)."""
    if not samconfig.is_file():
        return None
    config = tomllib.loads(samconfig.read_text(encoding="utf-8")).get("default", {})
    for section in ("deploy", "global"):
        value = config.get(section, {}).get("parameters", {}).get(key)
        if isinstance(value, str) and value:
            return value
    return None


def region_of(given: str | None, samconfig: Path = SAMCONFIG) -> str:
    """The region to look for the stack in, as `sam deploy` chose it: the one given, else yours (AWS_REGION,
    AWS_DEFAULT_REGION, your profile's), else the one `sam deploy --guided` saved in samconfig.toml."""
    region = given or boto3.session.Session().region_name or _samconfig("region", samconfig)
    if not region:
        raise SystemExit("no AWS region: set AWS_REGION, configure your profile's region, or pass REGION=...")
    return region


def stack_of(given: str | None, samconfig: Path = SAMCONFIG) -> str:
    return given or _samconfig("stack_name", samconfig) or "postmask"


def table_of(stack: str, region: str | None = None) -> str:
    cloudformation = boto3.client("cloudformation", region_name=region)
    outputs = cloudformation.describe_stacks(StackName=stack)["Stacks"][0].get("Outputs", [])
    for output in outputs:
        if output["OutputKey"] == "TableName":
            return str(output["OutputValue"])
    raise SystemExit(f"stack {stack!r} has no TableName output: is it a postmask stack?")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--email", required=True)
    parser.add_argument("--stack", default=None, help="default: samconfig.toml's stack_name, else postmask")
    parser.add_argument("--region", default=None, help="default: your AWS region, else samconfig.toml's")
    args = parser.parse_args(argv)

    email = UserCreate(email=args.email).email  # the same validation as the API
    region = region_of(args.region)
    os.environ["TABLE_NAME"] = table_of(stack_of(args.stack), region)
    os.environ["AWS_DEFAULT_REGION"] = region  # the store's client, in the stack's region
    get_settings.cache_clear()
    from postmask.store import users

    try:
        created = users.create(email, is_admin=True, token_name="admin bootstrap")  # noqa: S106 - a label
    except EmailTaken:
        print(f"{email} already has an account; ask an admin for a token or use one you have.", file=sys.stderr)
        return 1
    print(f"Admin {created.user.email} created (user id {created.user.id}).")
    print("Their API token, shown this once; keep it somewhere safe:")
    print(created.token)
    return 0


if __name__ == "__main__":
    sys.exit(main())
