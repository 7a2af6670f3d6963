"""GET /api/aliases/{alias_id}: one of the caller's aliases, with its ETag."""

from postmask.api import BEARER, APIGatewayHttpResolver, Response, caller_id, errors, install, observed, tagged
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
    responses=errors(401, 404, etag=True),
)
def get_alias(alias_id: str) -> Response[Alias]:
    found = aliases.read(caller_id(app), alias_id)
    return tagged(found.value, found.version)


lambda_handler = observed(app)
