"""PATCH /api/aliases/{alias_id}/contacts/{contact_id}: block or unblock a contact, or rename it."""

from postmask.api import BEARER, APIGatewayHttpResolver, caller_id, errors, install, observed
from postmask.schemas.contacts import Contact, ContactUpdate
from postmask.store import contacts

app = APIGatewayHttpResolver(enable_validation=True)
install(app)


@app.patch(
    "/api/aliases/<alias_id>/contacts/<contact_id>",
    tags=["Contacts"],
    operation_id="updateContact",
    summary="Block, unblock or rename a contact",
    security=BEARER,
    responses=errors(401, 404, 415, 422),
)
def update_contact(alias_id: str, contact_id: str, body: ContactUpdate) -> Contact:
    return contacts.update(caller_id(app), alias_id, contact_id, body.changes())


lambda_handler = observed(app)
