"""GET /api/destinations: the caller's destinations, optionally only those of one status."""

from typing import Annotated

from postmask.api import BEARER, APIGatewayHttpResolver, Limit, NextToken, Query, caller_id, errors, install, observed
from postmask.schemas.destinations import DestinationList, DestinationStatus
from postmask.store import destinations

app = APIGatewayHttpResolver(enable_validation=True)
install(app)


@app.get(
    "/api/destinations",
    tags=["Destinations"],
    operation_id="listDestinations",
    summary="List your destinations",
    security=BEARER,
    responses=errors(400, 401, 422),
)
def list_destinations(
    status: Annotated[DestinationStatus | None, Query(description="Only destinations with this status")] = None,
    limit: Limit = 50,
    next_token: NextToken = None,
) -> DestinationList:
    return destinations.list_page(caller_id(app), status=status, limit=limit, next_token=next_token)


lambda_handler = observed(app)
