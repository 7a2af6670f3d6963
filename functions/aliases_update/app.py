"""PATCH /api/aliases/{alias_id}: change some of an alias's mutable fields (only the version read, with If-Match)."""

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
from postmask.schemas.aliases import Alias, AliasUpdate
from postmask.store import aliases
from postmask.versions import parse_if_match

app = APIGatewayHttpResolver(enable_validation=True)
install(app)


@app.patch(
    "/api/aliases/<alias_id>",
    tags=["Aliases"],
    operation_id="updateAlias",
    summary="Change some of an alias's fields",
    security=BEARER,
    responses=errors(401, 404, 412, 415, 422, etag=True),
)
def update_alias(alias_id: str, body: AliasUpdate, if_match: IfMatch = None) -> Response[Alias]:
    written = aliases.update(caller_id(app), alias_id, body.changes(), expected=parse_if_match(if_match))
    return tagged(verification.mailed(written, api_host=api_host(app)), written.version)


lambda_handler = observed(app)
