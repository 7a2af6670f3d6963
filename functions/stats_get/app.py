"""GET /api/stats: per-day counts of your mail (forwarded, sent, blocked, refused, dropped)."""

from typing import Annotated

from postmask.api import BEARER, APIGatewayHttpResolver, Query, caller_id, errors, install, observed
from postmask.clock import now
from postmask.schemas.activity import Stats
from postmask.store import stats

app = APIGatewayHttpResolver(enable_validation=True)
install(app)


@app.get(
    "/api/stats",
    tags=["Activity"],
    operation_id="getStats",
    summary="Count your mail per day",
    security=BEARER,
    responses=errors(401, 422),
)
def get_stats(
    days: Annotated[int, Query(ge=1, le=stats.MAX_DAYS, description="How many UTC days, up to today")] = 30,
) -> Stats:
    return stats.days(caller_id(app), days, now().date())


lambda_handler = observed(app)
