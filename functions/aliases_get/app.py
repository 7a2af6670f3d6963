"""GET /api/aliases/{alias_id}: one of the caller's aliases."""

from postmask.api import BEARER, APIGatewayHttpResolver, caller_id, errors, install, observed
from postmask.schemas.aliases import Alias
from postmask.store import aliases

app = APIGatewayHttpResolver(enable_validation=True)
install(app)


@app.get(
    "/api/aliases/<alias_id>",
    tags=["Aliases"],
    operation_id="getAlias",
    summary="Get an alias",
    security=BEARER,
    responses=errors(401, 404),
)
def get_alias(alias_id: str) -> Alias:
    return aliases.get(caller_id(app), alias_id)


lambda_handler = observed(app)
