"""POST /api/users: an admin creates a user and receives that user's first token."""

from postmask.api import (
    BEARER,
    APIGatewayHttpResolver,
    IdempotencyKey,
    Response,
    content_types,
    errors,
    install,
    observed,
    require_admin,
)
from postmask.schemas.users import UserCreate, UserCreated
from postmask.store import users

app = APIGatewayHttpResolver(enable_validation=True)
install(app)


@app.post(
    "/api/users",
    tags=["Users"],
    operation_id="createUser",
    summary="Create a user (admins only)",
    security=BEARER,
    responses=errors(401, 403, 409, 415, 422, success=(201, "Created")),
)
def create_user(body: UserCreate, idempotency_key: IdempotencyKey = None) -> Response[UserCreated]:
    require_admin(app)
    created = users.create(body.email, is_admin=False)
    return Response(status_code=201, content_type=content_types.APPLICATION_JSON, body=created)


lambda_handler = observed(app, idempotent=True)
