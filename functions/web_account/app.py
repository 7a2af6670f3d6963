"""GET /account: your sessions and API tokens, each revocable; "Sign out everywhere". A page shell."""

from postmask_web.pages import page

lambda_handler = page("account.html")
