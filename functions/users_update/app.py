"""PATCH /api/users/{user_id}: an admin disables a user (their tokens are refused, their mail blocked) or
enables them again."""

from typing import Annotated

from postmask.api import BEARER, APIGatewayHttpResolver, Path, caller_id, errors, install, observed, require_admin
from postmask.schemas.users import ListedUser, UserUpdate
from postmask.store import users

app = APIGatewayHttpResolver(enable_validation=True)
install(app)


@app.patch(
    "/api/users/<user_id>",
    tags=["Users"],
    operation_id="updateUser",
    summary="Disable or enable a user (admins only)",
    security=BEARER,
    responses=errors(401, 403, 404, 409, 415, 422),
)
def update_user(user_id: Annotated[str, Path()], body: UserUpdate) -> ListedUser:
    require_admin(app)
    return users.set_disabled(caller_id(app), user_id, body.disabled)


lambda_handler = observed(app)
