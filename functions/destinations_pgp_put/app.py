"""PUT /api/destinations/{destination_id}/pgp: set the OpenPGP key copies to the destination are encrypted to."""

from postmask import openpgp
from postmask.api import BEARER, APIGatewayHttpResolver, caller_id, errors, install, observed
from postmask.schemas.destinations import PgpKey, PgpKeyPut
from postmask.store import pgp_keys

app = APIGatewayHttpResolver(enable_validation=True)
install(app)


@app.put(
    "/api/destinations/<destination_id>/pgp",
    tags=["Destinations"],
    operation_id="putDestinationPgpKey",
    summary="Encrypt mail to this destination with an OpenPGP key",
    description="The key is checked: one public key that can encrypt, unexpired and unrevoked (422 with the reason "
    "otherwise). Copies to the destination are then encrypted (PGP/MIME, headers included) for every alias whose "
    "`encrypt` is on.",
    security=BEARER,
    responses=errors(401, 404, 415, 422),
)
def put_pgp_key(destination_id: str, body: PgpKeyPut) -> PgpKey:
    info = openpgp.accepted(body.public_key)
    return pgp_keys.put(caller_id(app), destination_id, info, body.fallback)


lambda_handler = observed(app)
