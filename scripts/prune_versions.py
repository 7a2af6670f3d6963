"""Delete the published versions of a stack's functions that no alias points at.

Every deploy publishes a new version of each function behind its alias `live` (decision 0070) and leaves the
old ones. Without SnapStart they only take code storage (75 GB per region by default); with
`EnableSnapStart=true` Lambda bills each version's snapshot cache for as long as the version exists (README
"SnapStart and its cost": about $39 a month per set of the 36 functions' versions). Run it after a deploy:

    make prune-versions [STACK=name] [REGION=region] [KEEP=1] [DRY_RUN=1]

It keeps `$LATEST`, every version an alias points at (`live`, and both versions of a weighted alias), and the
KEEP newest others (to roll back by pointing `live` at one).
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Iterator
from typing import Any

import boto3

from scripts.admin import region_of, stack_of


def stack_functions(stack: str, region: str) -> Iterator[str]:
    """The physical names of the stack's Lambda functions."""
    cloudformation = boto3.client("cloudformation", region_name=region)
    for page in cloudformation.get_paginator("list_stack_resources").paginate(StackName=stack):
        for resource in page["StackResourceSummaries"]:
            if resource["ResourceType"] == "AWS::Lambda::Function" and "PhysicalResourceId" in resource:
                yield str(resource["PhysicalResourceId"])


def unused_versions(client: Any, function: str, keep: int) -> list[str]:
    """`function`'s published versions no alias points at, but the `keep` newest of them."""
    aliased = set()
    for page in client.get_paginator("list_aliases").paginate(FunctionName=function):
        for alias in page["Aliases"]:
            aliased.add(alias["FunctionVersion"])
            aliased.update((alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights", {}))
    published = [
        version["Version"]
        for page in client.get_paginator("list_versions_by_function").paginate(FunctionName=function)
        for version in page["Versions"]
        if version["Version"] != "$LATEST"
    ]
    unaliased = sorted((v for v in published if v not in aliased), key=int, reverse=True)
    return sorted(unaliased[keep:], key=int)


def prune(client: Any, functions: Iterable[str], *, keep: int, dry_run: bool) -> list[str]:
    """Delete (or, dry, only name) each function's unused versions; `function:version` for each."""
    removed = []
    for function in functions:
        for version in unused_versions(client, function, keep):
            if not dry_run:
                client.delete_function(FunctionName=function, Qualifier=version)
            removed.append(f"{function}:{version}")
    return removed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stack", help="the stack's name (default: samconfig.toml's, else postmask)")
    parser.add_argument("--region", help="the stack's region (default: yours, else samconfig.toml's)")
    parser.add_argument("--keep", type=int, default=1, help="unaliased versions to keep per function (default 1)")
    parser.add_argument("--dry-run", action="store_true", help="only list what would be deleted")
    args = parser.parse_args(argv)
    region = region_of(args.region)
    stack = stack_of(args.stack)
    client = boto3.client("lambda", region_name=region)
    removed = prune(client, stack_functions(stack, region), keep=max(0, args.keep), dry_run=args.dry_run)
    verb = "would delete" if args.dry_run else "deleted"
    for name in removed:
        print(f"{verb} {name}")
    print(f"{len(removed)} version(s) {verb.split()[-1]} in stack {stack} ({region})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
