"""GET /domains: add and delete domains, set their catch-all, see their DNS records. Data comes from /api."""

from postmask_web.pages import page

lambda_handler = page("domains.html")
