"""An account's end (DELETE /api/me): confirmed by the user's own e-mail address, typed; then every item of
the user (store.accounts) and the SES identities of their domains that postmask created (decision 0042)."""

from __future__ import annotations

from postmask import mail_domains
from postmask.errors import ConfirmationMismatch
from postmask.store import accounts, users


def delete(user_id: str, confirm: str) -> None:
    user = users.get(user_id)
    if confirm.strip().lower() != user.email.lower():
        raise ConfirmationMismatch(loc=("body", "confirm"))
    for name in accounts.delete_everything(user_id, user.email):
        mail_domains.delete_identity(name)
