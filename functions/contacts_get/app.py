"""GET /api/aliases/{alias_id}/contacts/{contact_id}: one contact of one of the caller's aliases, with its ETag."""

from postmask.api import BEARER, APIGatewayHttpResolver, Response, caller_id, errors, install, observed, tagged
from postmask.schemas.contacts import Contact
from postmask.store import contacts

app = APIGatewayHttpResolver(enable_validation=True)
install(app)


@app.get(
    "/api/aliases/<alias_id>/contacts/<contact_id>",
    tags=["Contacts"],
    operation_id="getContact",
    summary="Get a contact",
    security=BEARER,
    responses=errors(401, 404, etag=True),
)
def get_contact(alias_id: str, contact_id: str) -> Response[Contact]:
    found = contacts.read(caller_id(app), alias_id, contact_id)
    return tagged(found.value, found.version)


lambda_handler = observed(app)
