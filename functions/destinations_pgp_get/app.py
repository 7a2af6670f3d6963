"""GET /api/destinations/{destination_id}/pgp: the destination's OpenPGP key (fingerprint, algorithm, expiry)."""

from postmask.api import BEARER, APIGatewayHttpResolver, caller_id, errors, install, observed
from postmask.schemas.destinations import PgpKey
from postmask.store import pgp_keys

app = APIGatewayHttpResolver(enable_validation=True)
install(app)


@app.get(
    "/api/destinations/<destination_id>/pgp",
    tags=["Destinations"],
    operation_id="getDestinationPgpKey",
    summary="Get the destination's OpenPGP key",
    security=BEARER,
    responses=errors(401, 404),
)
def get_pgp_key(destination_id: str) -> PgpKey:
    return pgp_keys.get(caller_id(app), destination_id)


lambda_handler = observed(app)
