"""POST /api/sessions (public): mail a sign-in link to an account's address. 202, the same, for any address."""

from postmask import signin
from postmask.api import APIGatewayHttpResolver, Response, api_host, content_types, errors, install, observed
from postmask.schemas.sessions import SignInRequest, SignInRequested

app = APIGatewayHttpResolver(enable_validation=True)
install(app)


@app.post(
    "/api/sessions",
    tags=["Sessions"],
    operation_id="createSession",
    summary="Ask for a sign-in link by e-mail",
    description=(
        "Mails `<PublicUrl>/signin#<code>` to the address if it is an account's, at most 5 an hour. The answer "
        "is the same for every address, so it tells nobody who has an account."
    ),
    responses=errors(415, 422, success=(202, "Accepted: if the address has an account, a link is on its way")),
)
def request_sign_in_link(body: SignInRequest) -> Response[SignInRequested]:
    signin.request_link(body.email, api_host=api_host(app))
    return Response(status_code=202, content_type=content_types.APPLICATION_JSON, body=SignInRequested())


lambda_handler = observed(app)
