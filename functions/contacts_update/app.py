"""PATCH /api/aliases/{alias_id}/contacts/{contact_id}: block or unblock a contact, or rename it (only the version
read, with If-Match)."""

from postmask.api import BEARER, APIGatewayHttpResolver, IfMatch, Response, caller_id, errors, install, observed, tagged
from postmask.schemas.contacts import Contact, ContactUpdate
from postmask.store import contacts
from postmask.versions import parse_if_match

app = APIGatewayHttpResolver(enable_validation=True)
install(app)


@app.patch(
    "/api/aliases/<alias_id>/contacts/<contact_id>",
    tags=["Contacts"],
    operation_id="updateContact",
    summary="Block, unblock or rename a contact",
    security=BEARER,
    responses=errors(401, 404, 412, 415, 422, etag=True),
)
def update_contact(alias_id: str, contact_id: str, body: ContactUpdate, if_match: IfMatch = None) -> Response[Contact]:
    written = contacts.update(caller_id(app), alias_id, contact_id, body.changes(), expected=parse_if_match(if_match))
    return tagged(written.value, written.version)


lambda_handler = observed(app)
