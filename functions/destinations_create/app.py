"""POST /api/destinations: a new destination, pending until the link mailed to it is opened."""

from postmask import verification
from postmask.api import (
    BEARER,
    APIGatewayHttpResolver,
    IdempotencyKey,
    Response,
    api_host,
    caller_id,
    content_types,
    errors,
    install,
    observed,
)
from postmask.schemas.destinations import Destination, DestinationCreate

app = APIGatewayHttpResolver(enable_validation=True)
install(app)


@app.post(
    "/api/destinations",
    tags=["Destinations"],
    operation_id="createDestination",
    summary="Add a destination (a verification link is mailed to it)",
    security=BEARER,
    responses=errors(
        401, 409, 415, 422, 429, success=(201, "Created, pending"), location="The destination: `/api/destinations/{id}`"
    ),
)
def create_destination(body: DestinationCreate, idempotency_key: IdempotencyKey = None) -> Response[Destination]:
    destination = verification.create(caller_id(app), body.email, api_host=api_host(app))
    return Response(
        status_code=201,
        content_type=content_types.APPLICATION_JSON,
        body=destination,
        headers={"Location": f"/api/destinations/{destination.id}"},
    )


lambda_handler = observed(app, idempotent=True)
