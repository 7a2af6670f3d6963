"""GET /activity: what happened to your mail, all aliases or one, filtered by outcome. A page shell: its data
comes from /api."""

from postmask_web.pages import page

lambda_handler = page("activity.html")
