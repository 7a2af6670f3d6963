"""POST /api/import: aliases (and destinations) from a postmask export, or from a CSV of postmask, SimpleLogin or
addy.io; `dry_run` says what would happen. Idempotent: what the caller has already is skipped."""

from typing import Annotated

from pydantic import Field

from postmask import importing
from postmask.api import (
    BEARER,
    APIGatewayHttpResolver,
    IdempotencyKey,
    Query,
    api_host,
    caller_id,
    errors,
    install,
    observed,
)
from postmask.porting import MAX_BODY_BYTES, MAX_ROWS
from postmask.schemas.porting import ImportResult

app = APIGatewayHttpResolver(enable_validation=True)
install(app)

# What importing.run validates (postmask.schemas.common.email_address), said in the document: an e-mail address.
_Address = Annotated[str, Field(max_length=254, json_schema_extra={"format": "email"})]

SAFETY_MS = 3_000  # stop writing this long before the Lambda's timeout, and report the rest


@app.post(
    "/api/import",
    tags=["Import and export"],
    operation_id="importAliases",
    summary="Import aliases from postmask, SimpleLogin or addy.io",
    description=(
        f"A postmask export (`application/json`, as `GET /api/export` gives it) or a CSV (`text/csv`): postmask's "
        "own, SimpleLogin's alias export (`alias,note,enabled,mailboxes`), addy.io's import file "
        "(`alias,description,recipient_ids`) or its export (`email`, `description`, `active` columns), told apart "
        f"by the header. At most {MAX_ROWS} rows and {MAX_BODY_BYTES // 1_048_576} MB. Aliases go on your "
        "domains only; one you have already is skipped, so importing a file again is harmless."
    ),
    security=BEARER,
    responses=errors(401, 403, 409, 413, 415, 422),
    openapi_extensions={
        "x-request-body": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {"type": "object", "description": "A postmask export (`GET /api/export`)"}
                },
                "text/csv": {"schema": {"type": "string", "description": "A CSV file with its header row"}},
            },
        }
    },
)
def import_aliases(
    dry_run: Annotated[bool, Query(description="Say what would happen, change nothing")] = False,
    default_destination: Annotated[
        _Address | None,
        Query(description="Where rows that name no destination forward to: an e-mail address (else 422)"),
    ] = None,
    idempotency_key: IdempotencyKey = None,
) -> ImportResult:
    event = app.current_event
    content_type = (event.headers.get("content-type") or "").split(";")[0].strip().lower()
    return importing.run(
        caller_id(app),
        importing.body_text(event.raw_event),
        content_type,
        dry_run=dry_run,
        default_destination=default_destination,
        api_host=api_host(app),
        deadline=lambda: app.lambda_context.get_remaining_time_in_millis() < SAFETY_MS,
    )


lambda_handler = observed(app, accepts=("application/json", "text/csv"), idempotent=True)
