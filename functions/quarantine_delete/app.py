"""DELETE /api/quarantine/{quarantine_id}: delete a quarantined copy and its stored message."""

from postmask import quarantine
from postmask.api import BEARER, APIGatewayHttpResolver, Response, caller_id, errors, install, observed

app = APIGatewayHttpResolver(enable_validation=True)
install(app)


@app.delete(
    "/api/quarantine/<quarantine_id>",
    tags=["Quarantine"],
    operation_id="deleteQuarantined",
    summary="Delete a quarantined message",
    security=BEARER,
    responses=errors(401, 404, success=(204, "Deleted")),
)
def delete_quarantined(quarantine_id: str) -> Response[None]:
    quarantine.delete(caller_id(app), quarantine_id)
    return Response(status_code=204)


lambda_handler = observed(app)
