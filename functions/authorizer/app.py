"""The HTTP API's Lambda authorizer (REQUEST, simple responses): bearer token -> user_id, admin flag, token scope.

API Gateway itself answers 401 when the Authorization header is missing; this function answers "not
authorized" (403) for a malformed, unknown, revoked or expired token. It never logs the token.

On SimpleLogin's route only (`POST /api/alias/random/new`, its own authorizer without caching in template.yaml),
the token may also come as SimpleLogin's clients send their key: `Authentication: <token>` (decision 0003).
"""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from postmask.auth import SIMPLELOGIN_ROUTE, bearer_token, simplelogin_key
from postmask.observability import logger
from postmask.store import tokens


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    headers = {name.lower(): value for name, value in (event.get("headers") or {}).items()}
    secret = bearer_token(headers.get("authorization"))
    if secret is None and event.get("routeKey") == SIMPLELOGIN_ROUTE:
        secret = simplelogin_key(headers.get("authentication"))
    who = tokens.authenticate(secret) if secret else None
    if who is None:
        logger.info("token refused")
        return {"isAuthorized": False}
    logger.info("token accepted", user_id=who.user_id, token_id=who.token_id)
    return {"isAuthorized": True, "context": who.context()}
