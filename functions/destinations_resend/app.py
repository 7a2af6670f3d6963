"""POST /api/destinations/{destination_id}/resend: mail a new verification link; the old one stops working."""

from postmask import verification
from postmask.api import (
    BEARER,
    APIGatewayHttpResolver,
    Response,
    api_host,
    caller_id,
    content_types,
    errors,
    install,
    observed,
)
from postmask.schemas.destinations import Destination

app = APIGatewayHttpResolver(enable_validation=True)
install(app)


@app.post(
    "/api/destinations/<destination_id>/resend",
    tags=["Destinations"],
    operation_id="resendDestinationLink",
    summary="Mail a new verification link",
    security=BEARER,
    responses=errors(401, 404, 409, 429, success=(202, "A new link was mailed")),
)
def resend_link(destination_id: str) -> Response[Destination]:
    destination = verification.resend(caller_id(app), destination_id, api_host=api_host(app))
    return Response(status_code=202, content_type=content_types.APPLICATION_JSON, body=destination)


lambda_handler = observed(app)
