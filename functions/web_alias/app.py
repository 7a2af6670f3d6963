"""GET /aliases/{alias_id}: one alias and its contacts (reply addresses, counts, block), and writing to someone new.
A page shell: its data comes from /api."""

from postmask_web.pages import page

lambda_handler = page("alias.html")
