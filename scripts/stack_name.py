"""Refuse, before `sam deploy`, a stack name too long for the SES receipt rule names the template derives from it.

SES names a rule set or a rule with at most 64 characters ("less than 64" in older versions of its API
reference: 63 is safe under both). The template calls them `<stack>-inbound` and `<stack>-forward`, and
CloudFormation cannot measure a string's length (a `Rules` section only compares values, and `AllowedPattern`
applies to parameters, not to the stack's name), so the check runs here, in `make deploy`, instead of as a
rollback halfway through the first deploy. The suffixes are read from template.yaml, so a longer one moves
the limit.
"""

from __future__ import annotations

import argparse
import re
import sys
import tomllib
from pathlib import Path

from local import sam_template

SES_NAME_LIMIT = 63
_STACK = "${AWS::StackName}"
SAMCONFIG = sam_template.ROOT / "samconfig.toml"


def ses_name_suffixes(template: dict | None = None) -> set[str]:
    """What the template appends to the stack's name to name its SES rule set and rules."""
    template = template or sam_template.load()
    names = []
    for resource in template["Resources"].values():
        props = resource.get("Properties", {})
        if resource["Type"] == "AWS::SES::ReceiptRuleSet":
            names.append(props.get("RuleSetName"))
        elif resource["Type"] == "AWS::SES::ReceiptRule":
            names.append(props.get("Rule", {}).get("Name"))
    suffixes = set()
    for name in names:
        text = name.get("Fn::Sub") if isinstance(name, dict) else name
        if isinstance(text, str) and text.startswith(_STACK):
            suffixes.add(text[len(_STACK) :])
    return suffixes


def max_length(template: dict | None = None) -> int:
    return SES_NAME_LIMIT - max((len(suffix) for suffix in ses_name_suffixes(template)), default=0)


def problem(stack: str, template: dict | None = None) -> str | None:
    """Why `stack` cannot be deployed, or None."""
    limit = max_length(template)
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9-]*", stack):
        return f"stack name {stack!r}: letters, digits and hyphens, starting with a letter"
    if len(stack) > limit:
        return (
            f"stack name {stack!r} has {len(stack)} characters; at most {limit}, or SES refuses the receipt rule "
            f"names made from it ({', '.join(sorted(stack + s for s in ses_name_suffixes(template)))})"
        )
    return None


def configured_stack(samconfig: Path = SAMCONFIG) -> str | None:
    """The stack name `sam deploy` takes from samconfig.toml when none is given."""
    if not samconfig.is_file():
        return None
    config = tomllib.loads(samconfig.read_text(encoding="utf-8"))
    for section in ("deploy", "global"):
        name = config.get("default", {}).get(section, {}).get("parameters", {}).get("stack_name")
        if isinstance(name, str) and name:
            return name
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack", default="", help="the stack name (default: samconfig.toml's)")
    args = parser.parse_args(argv)
    stack = args.stack or configured_stack()
    if not stack:
        return 0  # `sam deploy --guided` asks for it
    reason = problem(stack)
    if reason:
        print(reason, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
