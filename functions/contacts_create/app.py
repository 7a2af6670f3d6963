"""POST /api/aliases/{alias_id}/contacts: someone new to write to from the alias, with their reply address."""

from postmask.api import BEARER, APIGatewayHttpResolver, Response, caller_id, content_types, errors, install, observed
from postmask.schemas.contacts import Contact, ContactCreate
from postmask.store import contacts

app = APIGatewayHttpResolver(enable_validation=True)
install(app)


@app.post(
    "/api/aliases/<alias_id>/contacts",
    tags=["Contacts"],
    operation_id="createContact",
    summary="Add a contact to write to from the alias (mail its reply address)",
    security=BEARER,
    responses=errors(
        401,
        404,
        409,
        415,
        422,
        success=(201, "Created"),
        location="The contact: `/api/aliases/{alias_id}/contacts/{id}`",
    ),
)
def create_contact(alias_id: str, body: ContactCreate) -> Response[Contact]:
    contact = contacts.create(caller_id(app), alias_id, body.email, body.name)
    return Response(
        status_code=201,
        content_type=content_types.APPLICATION_JSON,
        body=contact,
        headers={"Location": f"/api/aliases/{alias_id}/contacts/{contact.id}"},
    )


lambda_handler = observed(app)
