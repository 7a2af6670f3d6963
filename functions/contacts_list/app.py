"""GET /api/aliases/{alias_id}/contacts: an alias's contacts, newest first."""

from typing import Annotated

from postmask.api import BEARER, APIGatewayHttpResolver, Limit, NextToken, Query, caller_id, errors, install, observed
from postmask.schemas.contacts import ContactList
from postmask.store import contacts

app = APIGatewayHttpResolver(enable_validation=True)
install(app)


@app.get(
    "/api/aliases/<alias_id>/contacts",
    tags=["Contacts"],
    operation_id="listContacts",
    summary="List an alias's contacts and their reply addresses",
    security=BEARER,
    responses=errors(400, 401, 404, 422),
)
def list_contacts(
    alias_id: str,
    q: Annotated[str | None, Query(max_length=200, description="Matches address or name, case-insensitive")] = None,
    blocked: Annotated[bool | None, Query(description="Only blocked (true) or unblocked (false) contacts")] = None,
    limit: Limit = 50,
    next_token: NextToken = None,
) -> ContactList:
    return contacts.list_page(caller_id(app), alias_id, q=q, blocked=blocked, limit=limit, next_token=next_token)


lambda_handler = observed(app)
