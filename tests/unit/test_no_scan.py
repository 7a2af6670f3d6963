"""Lists are Queries: no code of ours names a DynamoDB Scan (a conftest guard also fails any Scan call)."""

from __future__ import annotations

import re

from local.sam_template import ROOT

SCAN = re.compile(r"\.scan\(|[\"']Scan[\"']|\bscan_paginator|get_paginator\([\"']scan")


def test_no_scan_in_the_code() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for folder in ("functions", "layers", "local", "scripts")
        for path in (ROOT / folder).rglob("*.py")
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if SCAN.search(line)
    ]
    assert offenders == []


def test_the_suite_guard_fails_a_scan(table: str) -> None:
    import boto3
    import pytest

    with pytest.raises(AssertionError, match="Scan"):
        boto3.client("dynamodb").scan(TableName=table)
