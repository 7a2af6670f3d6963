"""PUT /api/aliases/{alias_id}: replace an alias's mutable fields."""

from postmask import verification
from postmask.api import BEARER, APIGatewayHttpResolver, Response, api_host, caller_id, errors, install, observed
from postmask.schemas.aliases import AliasReplace
from postmask.store import aliases

app = APIGatewayHttpResolver(enable_validation=True)
install(app)


@app.put(
    "/api/aliases/<alias_id>",
    tags=["Aliases"],
    operation_id="replaceAlias",
    summary="Replace an alias's destinations, note, enabled and expiry",
    security=BEARER,
    responses=errors(401, 404, 415, 422, success=(204, "Replaced")),
)
def replace_alias(alias_id: str, body: AliasReplace) -> Response[None]:
    verification.mailed(aliases.update(caller_id(app), alias_id, body.model_dump()), api_host=api_host(app))
    return Response(status_code=204)


lambda_handler = observed(app)
