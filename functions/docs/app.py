"""GET /api/openapi.json and GET /api/docs: the API's OpenAPI document and Swagger UI for it, public.

The document is functions/docs/openapi.json, built from every function's own code by `make openapi` and
packaged with this function: what is served is exactly what was committed and tested. Swagger UI's script
and style sheet ship inside Powertools (in the common layer); this function serves them itself from
GET /api/docs/{asset}, so the page needs no internet access and the browser caches them.

Unlike the other functions this one imports nothing from `postmask`, and its resolver validates nothing:
it only reads files, and every import would be paid at cold start.
"""

from functools import cache
from pathlib import Path

import aws_lambda_powertools.event_handler
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.shared.version import VERSION as POWERTOOLS_VERSION

DOCUMENT = Path(__file__).resolve().parent / "openapi.json"
SWAGGER_UI = Path(aws_lambda_powertools.event_handler.__file__).resolve().parent / "openapi" / "swagger_ui"
ASSETS = {"swagger-ui-bundle.min.js": "text/javascript; charset=utf-8", "swagger-ui.min.css": "text/css; charset=utf-8"}
INIT_ASSET = "init.js"

# Relative URLs, so the page also works under a custom domain's base path. The assets' URLs carry the
# Powertools version: they can be cached for good, and a new layer is a new URL. The start-up script is a file
# of its own, so the Content-Security-Policy allows no inline script; `validatorUrl: null` keeps Swagger UI
# from sending the document to validator.swagger.io.
PAGE = f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>postmask API</title>
  <link rel="stylesheet" href="docs/swagger-ui.min.css?v={POWERTOOLS_VERSION}">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="docs/swagger-ui-bundle.min.js?v={POWERTOOLS_VERSION}"></script>
  <script src="docs/init.js?v={POWERTOOLS_VERSION}"></script>
</body>
</html>
"""
INIT = """window.ui = SwaggerUIBundle({
  url: "openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  docExpansion: "list",
  validatorUrl: null,
});
"""
JAVASCRIPT = "text/javascript; charset=utf-8"

# The page is where people paste API tokens: scripts and styles from this function only (Swagger UI shows its
# icons as data: images), calls to this API only, never in a frame. tests/contract/test_docs_browser.py fails on
# anything the policy blocks.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "form-action 'self'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ]
)
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate it
    "Referrer-Policy": "no-referrer",
}
PAGE_HEADERS = {**SECURITY_HEADERS, "Content-Security-Policy": CONTENT_SECURITY_POLICY}

app = APIGatewayHttpResolver()


@cache
def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


@app.get("/api/openapi.json", include_in_schema=False, compress=True)
def openapi_document() -> Response[str]:
    return Response(
        status_code=200, content_type=content_types.APPLICATION_JSON, body=_read(DOCUMENT), headers=SECURITY_HEADERS
    )


@app.get("/api/docs", include_in_schema=False, compress=True)
def swagger_ui() -> Response[str]:
    return Response(status_code=200, content_type="text/html; charset=utf-8", body=PAGE, headers=PAGE_HEADERS)


@app.get("/api/docs/<asset>", include_in_schema=False, compress=True, cache_control="public, max-age=31536000")
def swagger_ui_asset(asset: str) -> Response[str | dict[str, str]]:
    if asset == INIT_ASSET:
        return Response(status_code=200, content_type=JAVASCRIPT, body=INIT, headers=SECURITY_HEADERS)
    if asset not in ASSETS:
        return Response(
            status_code=404,
            content_type=content_types.APPLICATION_JSON,
            body={"message": "Not Found"},
            headers=SECURITY_HEADERS,
        )
    return Response(
        status_code=200, content_type=ASSETS[asset], body=_read(SWAGGER_UI / asset), headers=SECURITY_HEADERS
    )


lambda_handler = app.resolve
