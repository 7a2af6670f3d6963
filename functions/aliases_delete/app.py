"""DELETE /api/aliases/{alias_id}: delete an alias; its address becomes free again."""

from postmask.api import BEARER, APIGatewayHttpResolver, IfMatch, Response, caller_id, errors, install, observed
from postmask.store import aliases
from postmask.versions import parse_if_match

app = APIGatewayHttpResolver(enable_validation=True)
install(app)


@app.delete(
    "/api/aliases/<alias_id>",
    tags=["Aliases"],
    operation_id="deleteAlias",
    summary="Delete an alias",
    security=BEARER,
    responses=errors(401, 404, 412, 422, success=(204, "Deleted")),
)
def delete_alias(alias_id: str, if_match: IfMatch = None) -> Response[None]:
    aliases.delete(caller_id(app), alias_id, expected=parse_if_match(if_match))
    return Response(status_code=204)


lambda_handler = observed(app)
