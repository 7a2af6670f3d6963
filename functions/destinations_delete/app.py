"""DELETE /api/destinations/{destination_id}: forget a destination no alias or catch-all uses."""

from postmask.api import BEARER, APIGatewayHttpResolver, Response, caller_id, errors, install, observed
from postmask.store import destinations

app = APIGatewayHttpResolver(enable_validation=True)
install(app)


@app.delete(
    "/api/destinations/<destination_id>",
    tags=["Destinations"],
    operation_id="deleteDestination",
    summary="Delete a destination no alias uses",
    security=BEARER,
    responses=errors(401, 404, 409, success=(204, "Deleted")),
)
def delete_destination(destination_id: str) -> Response[None]:
    destinations.delete(caller_id(app), destination_id)
    return Response(status_code=204)


lambda_handler = observed(app)
