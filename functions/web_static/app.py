"""GET /static/{path+}: the web front end's CSS, JS and icons, cached for a year when the URL is versioned."""

from postmask_web.assets import serve

lambda_handler = serve
