"""GET /api/export as the API serves it: the caller's data read (postmask.store.exports), written as a postmask
export or a CSV (postmask.porting), compressed when the client takes gzip.

A Lambda function answers at most 6 MB: 10,000 aliases with long notes can pass that as plain JSON, and gzip
shrinks such a file about tenfold. A client that does not take gzip and whose export is too large gets a 406
saying so (decision 0101)."""

from __future__ import annotations

from http import HTTPStatus
from typing import Literal

from postmask.api import Response, content_types, errors
from postmask.clock import now_iso
from postmask.errors import ExportTooLarge
from postmask.porting import export_csv, export_json
from postmask.schemas.porting import ExportDocument
from postmask.store import exports

MAX_PLAIN_BYTES = 5_500_000  # under Lambda's 6 MB response payload, with room for headers and the JSON envelope


RESPONSES = errors(401, 406, 422, success=(200, "A postmask export (`format=json`), or your aliases as CSV"))
RESPONSES[200]["content"] = {
    "application/json": {"model": ExportDocument},
    "text/csv": {"schema": {"type": "string", "description": "address,destinations,note,enabled,expires_at,..."}},
}


def response(user_id: str, format_: Literal["json", "csv"], *, accepts_gzip: bool) -> Response[str]:
    moment = now_iso()
    if format_ == "csv":
        body = export_csv(exports.aliases(user_id))
        kind, filename = "text/csv; charset=utf-8", f"postmask-aliases-{moment[:10]}.csv"
    else:
        body = export_json(
            moment, exports.domains(user_id), exports.destinations(user_id), exports.aliases_with_contacts(user_id)
        )
        kind, filename = content_types.APPLICATION_JSON, f"postmask-export-{moment[:10]}.json"
    if not accepts_gzip and len(body.encode()) > MAX_PLAIN_BYTES:
        raise ExportTooLarge
    return Response(
        status_code=HTTPStatus.OK,
        content_type=kind,
        body=body,
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Vary": "Accept-Encoding"},
        compress=accepts_gzip,
    )
