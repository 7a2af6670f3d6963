"""POST /api/import as the API serves it: the body read (postmask.porting), the rows written
(postmask.store.imports), the new destinations' links mailed, the report made."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import Any

from postmask import porting, verification
from postmask.errors import InvalidRequest, TooLarge
from postmask.observability import logger, metrics
from postmask.schemas.common import email_address
from postmask.schemas.porting import ImportProblem, ImportResult
from postmask.store import imports
from postmask.store.destinations import Written


def body_text(event: dict[str, Any]) -> str:
    """The request body as text: 413 past porting.MAX_BODY_BYTES, 422 when empty."""
    body = event.get("body") or ""
    size = len(body) * 3 // 4 if event.get("isBase64Encoded") else len(body.encode())
    if size > porting.MAX_BODY_BYTES:
        raise TooLarge(
            f"The body is {size / 1_048_576:.1f} MB; an import takes at most {porting.MAX_BODY_BYTES // 1_048_576} MB "
            f"(and {porting.MAX_ROWS} rows): split the file"
        )
    if event.get("isBase64Encoded"):
        try:
            body = base64.b64decode(body, validate=True).decode("utf-8")
        except (binascii.Error, ValueError) as exc:
            raise InvalidRequest("The body is not UTF-8 text") from exc
    if not body.strip():
        raise InvalidRequest("The body is empty: send a postmask export (JSON) or a CSV file")
    return body


def run(
    user_id: str,
    text: str,
    content_type: str,
    *,
    dry_run: bool,
    default_destination: str | None,
    api_host: str | None,
    deadline: Callable[[], bool],
) -> ImportResult:
    if default_destination is not None:
        try:
            default_destination = email_address(default_destination)
        except ValueError as exc:
            raise InvalidRequest(
                f"default_destination is not a valid e-mail address: {exc}", loc=("query", "default_destination")
            ) from exc
    source = porting.read(text, content_type)
    report = imports.run(user_id, source, dry_run=dry_run, default_destination=default_destination, deadline=deadline)
    verification.mailed(Written(None, tuple(report.links)), api_host=api_host)
    if report.created and not dry_run:
        metrics.add_metric(name="AliasCreated", unit="Count", value=report.created)
    logger.info(
        "import",
        format=report.format,
        dry_run=dry_run,
        aliases_created=report.created,
        aliases_skipped=report.skipped,
        rows_refused=len(report.errors),
    )
    return ImportResult(
        created=report.created,
        skipped=report.skipped,
        errors=[ImportProblem(row=row, message=message) for row, message in report.errors],
        dry_run=dry_run,
        format=report.format,
        new_destinations=report.new_destinations,
    )
