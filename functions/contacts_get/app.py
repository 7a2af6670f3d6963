"""GET /api/aliases/{alias_id}/contacts/{contact_id}: one contact of one of the caller's aliases."""

from postmask.api import BEARER, APIGatewayHttpResolver, caller_id, errors, install, observed
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
    responses=errors(401, 404),
)
def get_contact(alias_id: str, contact_id: str) -> Contact:
    return contacts.get(caller_id(app), alias_id, contact_id)


lambda_handler = observed(app)
