"""GET /api/quarantine/{quarantine_id}: one copy that could not be delivered (headers, size, reason, when)."""

from postmask import quarantine as quarantined
from postmask.api import BEARER, APIGatewayHttpResolver, caller_id, errors, install, observed
from postmask.schemas.quarantine import QuarantinedMessage
from postmask.store import quarantine

app = APIGatewayHttpResolver(enable_validation=True)
install(app)


@app.get(
    "/api/quarantine/<quarantine_id>",
    tags=["Quarantine"],
    operation_id="getQuarantined",
    summary="Get a quarantined message",
    security=BEARER,
    responses=errors(401, 404),
)
def get_quarantined(quarantine_id: str) -> QuarantinedMessage:
    held = quarantine.get(caller_id(app), quarantine_id)
    return quarantine.to_model(held, quarantined.header_lines(held))


lambda_handler = observed(app)
