"""GET /api/quarantine: the copies that could not be delivered, newest first; one alias's, or one reason's."""

from typing import Annotated

from postmask.api import BEARER, APIGatewayHttpResolver, Limit, NextToken, Query, caller_id, errors, install, observed
from postmask.schemas.quarantine import QuarantinedList, QuarantineReason
from postmask.store import quarantine

app = APIGatewayHttpResolver(enable_validation=True)
install(app)


@app.get(
    "/api/quarantine",
    tags=["Quarantine"],
    operation_id="listQuarantine",
    summary="List mail that could not be delivered",
    security=BEARER,
    responses=errors(400, 401, 404, 422),
)
def list_quarantine(
    alias_id: Annotated[
        str | None, Query(max_length=64, description="Only this alias's copies (404 if not yours)")
    ] = None,
    reason: Annotated[QuarantineReason | None, Query(description="Only copies quarantined for this reason")] = None,
    limit: Limit = 50,
    next_token: NextToken = None,
) -> QuarantinedList:
    return quarantine.list_page(caller_id(app), alias_id=alias_id, reason=reason, limit=limit, next_token=next_token)


lambda_handler = observed(app)
