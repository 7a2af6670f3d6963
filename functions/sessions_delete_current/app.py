"""DELETE /api/sessions/current: sign out; the calling token stops working."""

from postmask import signin
from postmask.api import BEARER, APIGatewayHttpResolver, Response, caller, errors, install, observed

app = APIGatewayHttpResolver(enable_validation=True)
install(app)


@app.delete(
    "/api/sessions/current",
    tags=["Sessions"],
    operation_id="deleteCurrentSession",
    summary="Sign out: revoke the token of this request",
    description="Any token may revoke itself this way, a session's or a program's. Like any revoked token, it "
    "may keep working for up to AuthorizerCacheTtl seconds (API Gateway's cache of the authorizer's answer).",
    security=BEARER,
    responses=errors(401, success=(204, "Signed out")),
)
def sign_out() -> Response[None]:
    signin.sign_out(caller(app))
    return Response(status_code=204)


lambda_handler = observed(app)
