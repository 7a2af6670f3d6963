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
    assert 'url: "openapi.json"' in page
    sources = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert sorted(source.split("?")[0] for source in sources) == [
        "docs/swagger-ui-bundle.min.js",
        "docs/swagger-ui.min.css",
    ]
    assert "validatorUrl: null" in page  # Swagger UI would otherwise send the document to validator.swagger.io
    assert not re.search(r"https?://", page)


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
