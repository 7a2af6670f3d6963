"""DELETE /api/aliases/{alias_id}/contacts/{contact_id}: forget a contact; its reply address stops working."""

from postmask.api import BEARER, APIGatewayHttpResolver, IfMatch, Response, caller_id, errors, install, observed
from postmask.store import contacts
from postmask.versions import parse_if_match

app = APIGatewayHttpResolver(enable_validation=True)
install(app)


@app.delete(
    "/api/aliases/<alias_id>/contacts/<contact_id>",
    tags=["Contacts"],
    operation_id="deleteContact",
    summary="Delete a contact (its reply address stops working)",
    security=BEARER,
    responses=errors(401, 404, 412, 422, success=(204, "Deleted")),
)
def delete_contact(alias_id: str, contact_id: str, if_match: IfMatch = None) -> Response[None]:
    contacts.delete(caller_id(app), alias_id, contact_id, expected=parse_if_match(if_match))
    return Response(status_code=204)


lambda_handler = observed(app)
