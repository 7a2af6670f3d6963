"""An account's end (DELETE /api/me): confirmed by the user's own e-mail address, typed; then the user's stored
mail in the mail bucket (postmask.stored_mail: their quarantined copies, and the raw messages that were theirs
alone), every item of the user (store.accounts) and the SES identities of their domains that postmask created
(decision 0042).

Stored mail goes first: which raw messages were the user's is read from their activity events, which the
items' deletion removes. A deletion cut short is repeated with the same token and continues.
"""

from __future__ import annotations

from postmask import mail_domains, stored_mail
from postmask.errors import ConfirmationMismatch
from postmask.observability import logger
from postmask.settings import get_settings
from postmask.store import accounts, users


def delete(user_id: str, confirm: str) -> None:
    user = users.get(user_id)
    if confirm.strip().lower() != user.email.lower():
        raise ConfirmationMismatch(loc=("body", "confirm"))
    if get_settings().mail_bucket:  # else forwarding is off: no mail was ever stored
        mail = accounts.mail_of(user_id)
        raw = stored_mail.delete_messages(mail.own)
        quarantined = stored_mail.delete_quarantined(user_id)
        accounts.delete_mail_records(mail)
        logger.info("account's stored mail deleted", user_id=user_id, raw_messages=raw, quarantined=quarantined)
    for name in accounts.delete_everything(user_id, user.email):
        mail_domains.delete_identity(name)
