"""POST /api/sessions/redeem (public): a sign-in link's code, once, for a session token."""

from postmask import signin
from postmask.api import APIGatewayHttpResolver, Response, content_types, errors, install, observed
from postmask.schemas.sessions import SessionCreated, SignInCode

app = APIGatewayHttpResolver(enable_validation=True)
install(app)


@app.post(
    "/api/sessions/redeem",
    tags=["Sessions"],
    operation_id="redeemSession",
    summary="Sign in with the code of a sign-in link",
    description="The code works once, for 15 minutes. The session token is listed in `GET /api/tokens` "
    "(`kind: session`), named after this browser, and expires after SessionDays.",
    responses=errors(400, 415, 422, success=(201, "Signed in")),
)
def redeem_sign_in_code(body: SignInCode) -> Response[SessionCreated]:
    session = signin.redeem(body.code, user_agent=app.current_event.headers.get("user-agent"))
    return Response(
        status_code=201,
        content_type=content_types.APPLICATION_JSON,
        body=session,
        headers={"Cache-Control": "no-store"},  # it carries a secret: no cache keeps a copy
    )


lambda_handler = observed(app)
