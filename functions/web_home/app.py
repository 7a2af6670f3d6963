"""GET /: sign in by pasting a token, then a short overview. A page shell: its data comes from /api."""

from postmask_web.pages import page

lambda_handler = page("home.html")
