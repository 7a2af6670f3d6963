"""GET /api/tokens: the caller's API tokens (never their secrets)."""

from postmask.api import BEARER, APIGatewayHttpResolver, Limit, NextToken, caller_id, errors, install, observed
from postmask.schemas.tokens import TokenList
from postmask.store import tokens

app = APIGatewayHttpResolver(enable_validation=True)
install(app)


@app.get(
    "/api/tokens",
    tags=["Tokens"],
    operation_id="listTokens",
    summary="List your API tokens",
    security=BEARER,
    responses=errors(400, 401, 422),
)
def list_tokens(limit: Limit = 50, next_token: NextToken = None) -> TokenList:
    return tokens.list_page(caller_id(app), limit=limit, next_token=next_token)


lambda_handler = observed(app)
