"""GET /aliases: search, filter, create, edit, switch off and delete aliases. A page shell: its data comes from /api."""

from postmask_web.pages import page

lambda_handler = page("aliases.html")
