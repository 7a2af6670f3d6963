"""POST /api/aliases/bulk: enable, disable or delete up to 100 of the caller's aliases at once."""

from postmask.api import BEARER, APIGatewayHttpResolver, caller_id, errors, install, observed
from postmask.schemas.bulk import BulkFailure, BulkRequest, BulkResult
from postmask.store import bulk

app = APIGatewayHttpResolver(enable_validation=True)
install(app)


@app.post(
    "/api/aliases/bulk",
    tags=["Aliases"],
    operation_id="bulkAliases",
    summary="Enable, disable or delete many aliases",
    security=BEARER,
    responses=errors(401, 415, 422),
)
def bulk_aliases(body: BulkRequest) -> BulkResult:
    outcome = bulk.run(caller_id(app), body.action, body.ids)
    failed = [BulkFailure(id=alias_id, message=message) for alias_id, message in outcome.failed]
    return BulkResult(succeeded=outcome.succeeded, failed=failed)


lambda_handler = observed(app)
