"""GET /api/activity: every decision about your mail, newest first; one alias's, or one outcome's."""

from typing import Annotated

from postmask.api import BEARER, APIGatewayHttpResolver, Limit, NextToken, Query, caller_id, errors, install, observed
from postmask.schemas.activity import ActivityList, Outcome
from postmask.store import activity

app = APIGatewayHttpResolver(enable_validation=True)
install(app)


@app.get(
    "/api/activity",
    tags=["Activity"],
    operation_id="listActivity",
    summary="List what happened to your mail",
    security=BEARER,
    responses=errors(400, 401, 404, 422),
)
def list_activity(
    alias_id: Annotated[
        str | None, Query(max_length=64, description="Only this alias's events (404 if not yours)")
    ] = None,
    outcome: Annotated[Outcome | None, Query(description="Only events with this outcome")] = None,
    limit: Limit = 50,
    next_token: NextToken = None,
) -> ActivityList:
    return activity.list_page(caller_id(app), alias_id=alias_id, outcome=outcome, limit=limit, next_token=next_token)


lambda_handler = observed(app)
