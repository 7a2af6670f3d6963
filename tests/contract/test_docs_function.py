"""functions/docs: the committed document and Swagger UI, public, offline, and nothing else."""

from __future__ import annotations

import gzip
import re

from local import sam_template
from scripts.openapi import DOCUMENT
from tests.support.api import invoke


def test_the_document_is_the_committed_file_and_needs_no_token() -> None:
    response = invoke("GET", "/api/openapi.json")

    assert response.status == 200
    assert response.header("Content-Type") == "application/json"
    assert response.body == DOCUMENT.read_bytes()


def test_the_document_is_compressed_for_clients_that_accept_it() -> None:
    response = invoke("GET", "/api/openapi.json", headers={"accept-encoding": "gzip, deflate"})

    assert response.header("Content-Encoding") == "gzip"
    assert gzip.decompress(response.body) == DOCUMENT.read_bytes()


def test_the_page_loads_swagger_ui_and_the_document_from_this_api_only() -> None:
    response = invoke("GET", "/api/docs")

    assert response.status == 200
    assert response.header("Content-Type") == "text/html; charset=utf-8"
    page = response.body.decode()
    sources = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert sorted(source.split("?")[0] for source in sources) == [
        "docs/init.js",
        "docs/swagger-ui-bundle.min.js",
        "docs/swagger-ui.min.css",
    ]
    script = invoke("GET", "/api/docs/init.js").body.decode()
    assert 'url: "openapi.json"' in script
    assert "validatorUrl: null" in script  # Swagger UI would otherwise send the document to validator.swagger.io
    assert not re.search(r"https?://", page + script)


def test_swagger_ui_assets_are_served_cached_and_compressed() -> None:
    for asset, content_type in [
        ("swagger-ui-bundle.min.js", "text/javascript; charset=utf-8"),
        ("swagger-ui.min.css", "text/css; charset=utf-8"),
    ]:
        response = invoke("GET", f"/api/docs/{asset}", headers={"accept-encoding": "gzip"})

        assert response.status == 200, asset
        assert response.header("Content-Type") == content_type
        assert response.header("Cache-Control") == "public, max-age=31536000"
        assert len(gzip.decompress(response.body)) > 100_000  # the real bundle, not a stub


def test_anything_else_under_docs_is_a_json_404() -> None:
    for asset in ("index.html", "..%2Fopenapi.json", "openapi.json"):
        response = invoke("GET", f"/api/docs/{asset}")

        assert response.status == 404, asset
        assert response.json() == {"message": "Not Found"}


def test_the_docs_function_is_public_and_has_no_table_access() -> None:
    docs = sam_template.functions()["DocsFunction"]["Properties"]
    routes = [route for route in sam_template.routes() if route.function == "DocsFunction"]

    assert "Policies" not in docs
    assert routes
    assert all(route.public for route in routes)


# --- issue 13, item 12: the page where people paste tokens ------------------------------------------------


def test_the_docs_page_sends_a_strict_content_security_policy() -> None:
    response = invoke("GET", "/api/docs")

    policy = dict(
        directive.strip().split(" ", 1) for directive in (response.header("Content-Security-Policy") or "").split(";")
    )
    assert policy["default-src"] == "'none'"
    assert policy["script-src"] == "'self'"  # no inline script, no eval
    assert policy["connect-src"] == "'self'"  # "Try it out" calls this API and nothing else
    assert policy["frame-ancestors"] == "'none'"  # no page can frame it to steal a pasted token
    assert policy["base-uri"] == "'none'"
    assert response.header("X-Content-Type-Options") == "nosniff"
    assert response.header("X-Frame-Options") == "DENY"
    assert response.header("Referrer-Policy") == "no-referrer"
    assert "<script>" not in response.body.decode()  # the start-up script is a file of its own


def test_the_start_up_script_is_served_and_every_docs_response_is_nosniff() -> None:
    page = invoke("GET", "/api/docs").body.decode()
    (init,) = [src.split("?")[0] for src in re.findall(r'src="([^"]+)"', page) if "init" in src]
    script = invoke("GET", f"/api/{init}")
    assert script.status == 200
    assert script.header("Content-Type") == "text/javascript; charset=utf-8"
    assert b'url: "openapi.json"' in script.body
    assert b"validatorUrl: null" in script.body
    for path in ("/api/openapi.json", "/api/docs/swagger-ui.min.css", f"/api/{init}"):
        assert invoke("GET", path).header("X-Content-Type-Options") == "nosniff", path
