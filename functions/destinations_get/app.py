"""GET /api/destinations/{destination_id}: one of the caller's destinations."""

from postmask.api import BEARER, APIGatewayHttpResolver, caller_id, errors, install, observed
from postmask.schemas.destinations import Destination
from postmask.store import destinations

app = APIGatewayHttpResolver(enable_validation=True)
install(app)


@app.get(
    "/api/destinations/<destination_id>",
    tags=["Destinations"],
    operation_id="getDestination",
    summary="Get a destination",
    security=BEARER,
    responses=errors(401, 404),
)
def get_destination(destination_id: str) -> Destination:
    return destinations.get(caller_id(app), destination_id)


lambda_handler = observed(app)
