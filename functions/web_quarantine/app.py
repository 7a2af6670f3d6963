"""GET /quarantine: mail that could not be delivered: resend it (to its mailbox or another), or delete it. Data
comes from /api."""

from postmask_web.pages import page

lambda_handler = page("quarantine.html")
