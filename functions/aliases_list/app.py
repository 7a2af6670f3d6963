"""GET /api/aliases: the caller's aliases, newest first, with search and filters."""

from typing import Annotated

from postmask.api import BEARER, APIGatewayHttpResolver, Limit, NextToken, Query, caller_id, errors, install, observed
from postmask.schemas.aliases import AliasList
from postmask.schemas.common import DomainName
from postmask.store import aliases

app = APIGatewayHttpResolver(enable_validation=True)
install(app)


@app.get(
    "/api/aliases",
    tags=["Aliases"],
    operation_id="listAliases",
    summary="List and search your aliases",
    security=BEARER,
    responses=errors(400, 401, 422),
)
def list_aliases(
    domain: Annotated[DomainName | None, Query(description="Only aliases on this domain")] = None,
    q: Annotated[str | None, Query(max_length=200, description="Matches address or note, case-insensitive")] = None,
    enabled: Annotated[bool | None, Query(description="Only enabled (true) or disabled (false) aliases")] = None,
    leaked: Annotated[
        bool | None, Query(description="Only aliases with a suspected leak (true), or without one (false)")
    ] = None,
    limit: Limit = 50,
    next_token: NextToken = None,
) -> AliasList:
    return aliases.list_page(
        caller_id(app), domain=domain, q=q, enabled=enabled, leaked=leaked, limit=limit, next_token=next_token
    )


lambda_handler = observed(app)
