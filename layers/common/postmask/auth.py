"""Who is calling: the shape the authorizer hands to every protected function."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Caller:
    user_id: str
    is_admin: bool
    token_id: str | None = None

    def context(self) -> dict[str, str | bool]:
        """What the authorizer returns as `context`; API Gateway passes it on as `authorizer.lambda`.
        The token's id (never its secret) lets `DELETE /api/sessions/current` revoke the calling token."""
        context: dict[str, str | bool] = {"user_id": self.user_id, "is_admin": self.is_admin}
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
