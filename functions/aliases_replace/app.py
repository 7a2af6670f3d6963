"""PUT /api/aliases/{alias_id}: replace an alias's mutable fields (only the version read, with If-Match)."""

from postmask import verification
from postmask.api import (
    BEARER,
    APIGatewayHttpResolver,
    IfMatch,
    Response,
    api_host,
    caller_id,
    errors,
    install,
    observed,
    tagged,
)
from postmask.schemas.aliases import AliasReplace
from postmask.store import aliases
from postmask.versions import parse_if_match

app = APIGatewayHttpResolver(enable_validation=True)
install(app)


@app.put(
    "/api/aliases/<alias_id>",
    tags=["Aliases"],
    operation_id="replaceAlias",
    summary="Replace an alias's destinations, note, enabled and expiry",
    security=BEARER,
    responses=errors(401, 404, 412, 415, 422, success=(204, "Replaced"), etag=True),
)
def replace_alias(alias_id: str, body: AliasReplace, if_match: IfMatch = None) -> Response[None]:
    written = aliases.update(caller_id(app), alias_id, body.model_dump(), expected=parse_if_match(if_match))
    verification.mailed(written, api_host=api_host(app))
    return tagged(None, written.version, status=204)


lambda_handler = observed(app)
