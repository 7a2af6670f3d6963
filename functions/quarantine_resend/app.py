"""POST /api/quarantine/{quarantine_id}/resend: send a quarantined copy again, at most once per destination."""

from postmask import quarantine
from postmask.api import BEARER, APIGatewayHttpResolver, Response, caller_id, content_types, errors, install, observed
from postmask.schemas.quarantine import ResendRequest, Resent

app = APIGatewayHttpResolver(enable_validation=True)
install(app)


@app.post(
    "/api/quarantine/<quarantine_id>/resend",
    tags=["Quarantine"],
    operation_id="resendQuarantined",
    summary="Resend a quarantined message (to the same destination, or another verified one of yours)",
    security=BEARER,
    responses=errors(401, 404, 409, 413, 415, 422, success=(202, "Sent")),
)
def resend_quarantined(quarantine_id: str, body: ResendRequest | None = None) -> Response[Resent]:
    destination = body.destination if body is not None else None
    resent = quarantine.resend(caller_id(app), quarantine_id, destination)
    return Response(status_code=202, content_type=content_types.APPLICATION_JSON, body=resent)


lambda_handler = observed(app)
