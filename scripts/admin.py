"""Create the first admin of a deployed stack and print their token (`make admin EMAIL=... [STACK=...]`).

Runs with your AWS credentials: it finds the table in the stack's outputs and writes the user directly,
since no one can call `POST /api/users` before an admin exists.
"""

from __future__ import annotations

import argparse
import os
import sys

import boto3

from postmask.errors import EmailTaken
from postmask.schemas.users import UserCreate
from postmask.settings import get_settings


def table_of(stack: str) -> str:
    outputs = boto3.client("cloudformation").describe_stacks(StackName=stack)["Stacks"][0].get("Outputs", [])
    for output in outputs:
        if output["OutputKey"] == "TableName":
            return str(output["OutputValue"])
    raise SystemExit(f"stack {stack!r} has no TableName output: is it a postmask stack?")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--email", required=True)
    parser.add_argument("--stack", default="postmask")
    args = parser.parse_args(argv)

    email = UserCreate(email=args.email).email  # the same validation as the API
    os.environ["TABLE_NAME"] = table_of(args.stack)
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
