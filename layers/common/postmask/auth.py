"""Who is calling: the shape the authorizer hands to every protected function."""

from __future__ import annotations

from dataclasses import dataclass

# A token's scope (postmask.schemas.tokens.TokenScope; here as plain strings: the authorizer imports no model).
FULL_SCOPE = "all"
ALIASES_CREATE_SCOPE = "aliases:create"


@dataclass(frozen=True)
class Caller:
    user_id: str
    is_admin: bool
    token_id: str | None = None
    scope: str = FULL_SCOPE

    def context(self) -> dict[str, str | bool]:
        """What the authorizer returns as `context`; API Gateway passes it on as `authorizer.lambda`.
        The token's id (never its secret) lets `DELETE /api/sessions/current` revoke the calling token. The
        scope is checked by each function (postmask.api.observed), not here: API Gateway caches this answer per
        header value, for every route (docs/decisions/0004)."""
        context: dict[str, str | bool] = {"user_id": self.user_id, "is_admin": self.is_admin, "scope": self.scope}
        if self.token_id:
            context["token_id"] = self.token_id
        return context


def bearer_token(authorization: str | None) -> str | None:
    """The token from an `Authorization: Bearer <token>` header, or None when there is none."""
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


# The one route on which a token may come in SimpleLogin's header (functions/authorizer, decision 0003).
SIMPLELOGIN_ROUTE = "POST /api/alias/random/new"


def simplelogin_key(authentication: str | None) -> str | None:
    """The token from SimpleLogin's `Authentication: <key>` header (the key alone, no scheme), or None."""
    key = (authentication or "").strip()
    return key or None
