"""DELETE /api/aliases/{alias_id}/contacts/{contact_id}: forget a contact; its reply address stops working."""

from postmask.api import BEARER, APIGatewayHttpResolver, Response, caller_id, errors, install, observed
from postmask.store import contacts

app = APIGatewayHttpResolver(enable_validation=True)
install(app)


@app.delete(
    "/api/aliases/<alias_id>/contacts/<contact_id>",
    tags=["Contacts"],
    operation_id="deleteContact",
    summary="Delete a contact (its reply address stops working)",
    security=BEARER,
    responses=errors(401, 404, success=(204, "Deleted")),
)
def delete_contact(alias_id: str, contact_id: str) -> Response[None]:
    contacts.delete(caller_id(app), alias_id, contact_id)
    return Response(status_code=204)


lambda_handler = observed(app)
