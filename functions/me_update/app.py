"""PATCH /api/me: the caller's settings for new aliases (default domain and destinations, random alias style)."""

from postmask import alias_defaults
from postmask.api import BEARER, APIGatewayHttpResolver, caller_id, errors, install, observed
from postmask.schemas.users import User, UserSettings

app = APIGatewayHttpResolver(enable_validation=True)
install(app)


@app.patch(
    "/api/me",
    tags=["Users"],
    operation_id="updateMe",
    summary="Change your settings for new aliases",
    description="Any subset of the fields; a field left out keeps its value, `null` clears a default.",
    security=BEARER,
    responses=errors(401, 415, 422),
)
def update_me(body: UserSettings) -> User:
    return alias_defaults.update(caller_id(app), body)


lambda_handler = observed(app)
