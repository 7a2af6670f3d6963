"""GET /api/destinations/{destination_id}: one of the caller's destinations, with its ETag."""

from postmask.api import BEARER, APIGatewayHttpResolver, Response, caller_id, errors, install, observed, tagged
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
    responses=errors(401, 404, etag=True),
)
def get_destination(destination_id: str) -> Response[Destination]:
    found = destinations.read(caller_id(app), destination_id)
    return tagged(found.value, found.version)


lambda_handler = observed(app)
