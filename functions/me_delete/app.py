"""DELETE /api/me: delete the calling user's account and everything in it, after a typed confirmation."""

from postmask import accounts
from postmask.api import BEARER, APIGatewayHttpResolver, Response, caller_id, errors, install, observed
from postmask.schemas.users import AccountDelete

app = APIGatewayHttpResolver(enable_validation=True)
install(app)


@app.delete(
    "/api/me",
    tags=["Users"],
    operation_id="deleteMe",
    summary="Delete your account: every alias, domain, destination, contact, token, event and stored message of yours",
    security=BEARER,
    responses=errors(401, 415, 422, success=(204, "Deleted; the token used stops working")),
)
def delete_me(body: AccountDelete) -> Response[None]:
    accounts.delete(caller_id(app), body.confirm)
    return Response(status_code=204)


lambda_handler = observed(app)
