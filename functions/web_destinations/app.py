"""GET /destinations: add destinations, see which are verified, send a new link, delete. Data comes from /api."""

from postmask_web.pages import page

lambda_handler = page("destinations.html")
