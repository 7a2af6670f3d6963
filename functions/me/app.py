"""GET /api/me: who the token belongs to."""

from postmask.api import BEARER, APIGatewayHttpResolver, caller_id, errors, install, observed
from postmask.schemas.users import User
from postmask.store import users

app = APIGatewayHttpResolver(enable_validation=True)
install(app)


@app.get(
    "/api/me", tags=["Users"], operation_id="getMe", summary="The calling user", security=BEARER, responses=errors(401)
)
def get_me() -> User:
    return users.get(caller_id(app))


lambda_handler = observed(app)
