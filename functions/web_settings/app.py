"""GET /settings: defaults for new aliases (domain, mailboxes, random style) and deleting the account. A page
shell."""

from postmask_web.pages import page

lambda_handler = page("settings.html")
