"""DELETE /api/destinations/{destination_id}/pgp: remove the key; copies to the destination go in clear again."""

from postmask.api import BEARER, APIGatewayHttpResolver, Response, caller_id, errors, install, observed
from postmask.store import pgp_keys

app = APIGatewayHttpResolver(enable_validation=True)
install(app)


@app.delete(
    "/api/destinations/<destination_id>/pgp",
    tags=["Destinations"],
    operation_id="deleteDestinationPgpKey",
    summary="Remove the destination's OpenPGP key",
    security=BEARER,
    responses=errors(401, 404, success=(204, "Removed")),
)
def delete_pgp_key(destination_id: str) -> Response[None]:
    pgp_keys.delete(caller_id(app), destination_id)
    return Response(status_code=204)


lambda_handler = observed(app)
