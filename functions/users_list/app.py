"""GET /api/users: every user, for admins."""

from postmask.api import BEARER, APIGatewayHttpResolver, Limit, NextToken, errors, install, observed, require_admin
from postmask.schemas.users import UserList
from postmask.store import users

app = APIGatewayHttpResolver(enable_validation=True)
install(app)


@app.get(
    "/api/users",
    tags=["Users"],
    operation_id="listUsers",
    summary="List users, oldest first (admins only)",
    security=BEARER,
    responses=errors(400, 401, 403, 422),
)
def list_users(limit: Limit = 50, next_token: NextToken = None) -> UserList:
    require_admin(app)
    return users.list_page(limit=limit, next_token=next_token)


lambda_handler = observed(app)
