"""PATCH /api/aliases/{alias_id}: change some of an alias's mutable fields."""

from postmask import verification
from postmask.api import BEARER, APIGatewayHttpResolver, api_host, caller_id, errors, install, observed
from postmask.schemas.aliases import Alias, AliasUpdate
from postmask.store import aliases

app = APIGatewayHttpResolver(enable_validation=True)
install(app)


@app.patch(
    "/api/aliases/<alias_id>",
    tags=["Aliases"],
    operation_id="updateAlias",
    summary="Change some of an alias's fields",
    security=BEARER,
    responses=errors(401, 404, 415, 422),
)
def update_alias(alias_id: str, body: AliasUpdate) -> Alias:
    return verification.mailed(aliases.update(caller_id(app), alias_id, body.changes()), api_host=api_host(app))


lambda_handler = observed(app)
