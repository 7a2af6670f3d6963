"""GET /api/export: everything of the caller's, as a postmask export (JSON) or their aliases as CSV."""

from typing import Annotated, Literal

from postmask import exporting
from postmask.api import BEARER, APIGatewayHttpResolver, Query, Response, caller_id, install, observed

app = APIGatewayHttpResolver(enable_validation=True)
install(app)


@app.get(
    "/api/export",
    tags=["Import and export"],
    operation_id="exportAll",
    summary="Export your domains, destinations and aliases",
    security=BEARER,
    responses=exporting.RESPONSES,
)
def export_all(
    format: Annotated[
        Literal["json", "csv"], Query(description="`json`: everything, for an import; `csv`: your aliases")
    ] = "json",
) -> Response[str]:
    accepts_gzip = "gzip" in (app.current_event.headers.get("accept-encoding") or "")
    return exporting.response(caller_id(app), format, accepts_gzip=accepts_gzip)


lambda_handler = observed(app)
