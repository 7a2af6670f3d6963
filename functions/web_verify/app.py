"""GET /verify: the page a destination's link opens; its script posts the link's secret to the API."""

from postmask_web.pages import page

lambda_handler = page("verify.html")
