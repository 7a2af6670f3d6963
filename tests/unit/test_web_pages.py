"""The web pages and static files, through their Lambda handlers routed from template.yaml (no AWS needed)."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from local.events import http_event, read_result
from local.functions import FakeLambdaContext
from postmask_web import assets, pages
from postmask_web.http import web_handler
from tests.support.api import invoke

PAGES = {
    "/": "Overview",
    "/aliases": "Aliases",
    "/aliases/01j0000000000000000000000a": "Alias",
    "/activity": "Activity",
    "/domains": "Domains",
    "/destinations": "Destinations",
    "/quarantine": "Quarantine",
    "/verify": "Confirm a destination",
    "/account": "Account",
    "/settings": "Settings",
    "/users": "Users",
    "/signin": "Signing in",
}
# The pages a link in a mail opens are reached from the mail, not the navigation, and have no form.
OUTSIDE_NAVIGATION = {"/verify", "/signin"}
# A page below one of the navigation's: the navigation marks its parent (an alias's page: Aliases).
UNDER = {"/aliases/01j0000000000000000000000a": "/aliases", "/settings": "/account", "/users": "/account"}
# Reached from the overview: the quarantine (its count there, and its notice mail); the navigation keeps its
# five pages on one phone line.
FROM_THE_OVERVIEW = {"/quarantine"}
WITHOUT_FORMS = OUTSIDE_NAVIGATION | {"/quarantine"}  # its buttons act on what the script lists
ROOT = Path(__file__).resolve().parents[2]


class Elements(HTMLParser):
    """Every start tag of a document with its attributes, the text inside each <script>, and the form
    controls that are on the page itself (not inside a <template> that a script clones)."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.script_text: list[str] = []
        self.controls: list[dict[str, str | None]] = []
        self._in_script = False
        self._template_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"
        self._template_depth += tag == "template"
        if tag in ("input", "select", "textarea") and not self._template_depth:
            self.controls.append(dict(attrs))

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False
        self._template_depth -= tag == "template"

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.script_text.append(data)


def parse(html: str) -> Elements:
    parser = Elements()
    parser.feed(html)
    return parser


def csp(header: str) -> dict[str, list[str]]:
    directives = (part.split() for part in header.split(";") if part.strip())
    return {name: values for name, *values in directives}


def assert_security_headers(response: object) -> None:
    header = response.header  # type: ignore[attr-defined]
    policy = csp(header("Content-Security-Policy"))
    assert policy["script-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["default-src"] == ["'none'"]
    assert "'unsafe-inline'" not in header("Content-Security-Policy")
    assert "'unsafe-eval'" not in header("Content-Security-Policy")
    assert header("X-Content-Type-Options") == "nosniff"
    assert header("Referrer-Policy") == "no-referrer"


@pytest.mark.parametrize("path", PAGES)
def test_each_page_is_html_with_the_security_headers(path: str) -> None:
    response = invoke("GET", path)

    assert response.status == 200
    assert response.header("Content-Type") == "text/html; charset=utf-8"
    assert_security_headers(response)
    assert response.header("Cache-Control") == "no-cache"


@pytest.mark.parametrize(("path", "title"), PAGES.items())
def test_each_page_extends_the_base_template(path: str, title: str) -> None:
    html = invoke("GET", path).body.decode()
    elements = parse(html)

    assert f"<title>{title} · postmask</title>" in html
    assert 'class="skip-link" href="#main"' in html  # base.html
    assert 'class="site-header"' in html  # includes/header.html
    assert 'class="site-footer"' in html  # includes/footer.html
    assert 'id="confirm-dialog"' in html  # includes/confirm_dialog.html
    current = [attrs["href"] for tag, attrs in elements.tags if tag == "a" and attrs.get("aria-current") == "page"]
    expected = [] if path in OUTSIDE_NAVIGATION | FROM_THE_OVERVIEW else [UNDER.get(path, path)]
    assert current == expected, "the navigation marks exactly this page as the current one"


@pytest.mark.parametrize("path", PAGES)
def test_pages_have_no_inline_script_style_or_event_handler(path: str) -> None:
    # The CSP would block them in the browser; this finds them before a user does.
    elements = parse(invoke("GET", path).body.decode())

    scripts = [attrs for tag, attrs in elements.tags if tag == "script"]
    assert scripts, "every page loads its scripts"
    assert all(attrs.get("src", "").startswith("/static/") for attrs in scripts)
    assert elements.script_text == []
    for tag, attrs in elements.tags:
        assert "style" not in attrs, tag
        assert not [name for name in attrs if name.startswith("on")], tag
    assert not [tag for tag, _ in elements.tags if tag == "style"]


@pytest.mark.parametrize("path", PAGES)
def test_every_form_control_has_a_label(path: str) -> None:
    elements = parse(invoke("GET", path).body.decode())
    labelled = {attrs["for"] for tag, attrs in elements.tags if tag == "label" and attrs.get("for")}

    # (Controls inside a <template> are labelled by the script that clones them; the browser tests use them
    # by their labels.)
    assert bool(elements.controls) != (path in WITHOUT_FORMS)
    for attrs in elements.controls:
        assert attrs.get("id") in labelled or attrs.get("aria-label"), attrs


def static_links(html: str) -> set[str]:
    elements = parse(html)
    links = {attrs.get("src") or attrs.get("href") or "" for _, attrs in elements.tags}
    return {link for link in links if link.startswith("/static/")}


def test_every_static_file_a_page_links_is_served_for_a_year() -> None:
    links = set().union(*(static_links(invoke("GET", path).body.decode()) for path in PAGES))
    assert {re.sub(r"\?.*", "", link) for link in links} >= {
        "/static/app.css",
        "/static/app.js",
        "/static/home.js",
        "/static/aliases.js",
        "/static/alias.js",
        "/static/activity.js",
        "/static/activity_page.js",
        "/static/domains.js",
        "/static/account.js",
        "/static/settings.js",
        "/static/users.js",
        "/static/signin.js",
    }
    for link in links:
        path, _, query = link.partition("?")
        version = query.removeprefix("v=")

        response = invoke("GET", path, query={"v": version})

        assert response.status == 200, link
        assert response.header("Cache-Control") == "public, max-age=31536000, immutable"
        assert hashlib.sha256(response.body).hexdigest().startswith(version), "the version is the content's hash"
        suffix = Path(path).suffix
        expected = {".css": "text/css", ".js": "text/javascript", ".svg": "image/svg+xml"}[suffix]
        assert response.header("Content-Type").startswith(expected)
        assert_security_headers(response)


@pytest.mark.parametrize("version", [None, "0123456789abcdef"])
def test_a_static_file_without_its_current_version_must_be_revalidated(version: str | None) -> None:
    # An old or missing version must not be cached for a year: the content under that URL may change.
    response = invoke("GET", "/static/app.css", query={"v": version})

    assert response.status == 200
    assert response.header("Cache-Control") == "no-cache"


@pytest.mark.parametrize(
    "name",
    [
        "../templates/base.html",
        "..%2Ftemplates%2Fbase.html",
        "%2e%2e/pages.py",
        "../pages.py",
        "../../../../etc/passwd",
        "/etc/passwd",
        "templates/base.html",
        "./app.css",
        "app.css/",
        "APP.CSS",
        "app.css%00.js",
        "missing.js",
    ],
)
def test_static_serves_nothing_outside_its_own_files(name: str) -> None:
    # Straight to the handler, with whatever path parameter a gateway might pass on.
    event = http_event("GET", f"/static/{name}", path_parameters={"path": name}, route_key="GET /static/{path+}")

    response = read_result(assets.serve(event, FakeLambdaContext("WebStaticFunction")))

    assert response.status == 404
    assert response.json() == {"message": "Not found"}
    assert response.header("X-Content-Type-Options") == "nosniff"


def test_only_known_kinds_of_file_are_served() -> None:
    served = set(assets.assets())
    assert served, "the static directory is found"
    assert {Path(name).suffix for name in served} <= set(assets.CONTENT_TYPES)
    on_disk = {path.relative_to(assets.STATIC_DIR).as_posix() for path in assets.STATIC_DIR.rglob("*.*")}
    assert served == {name for name in on_disk if Path(name).suffix in assets.CONTENT_TYPES}


def test_templates_escape_what_they_interpolate() -> None:
    template = pages.environment().from_string("<p>{{ value }}</p>")

    assert template.render(value="<img src=x onerror=alert(1)>") == "<p>&lt;img src=x onerror=alert(1)&gt;</p>"


def test_an_unknown_static_name_in_a_template_fails_its_rendering() -> None:
    with pytest.raises(LookupError, match=r"no-such\.css"):
        pages.environment().from_string("{{ static_url('no-such.css') }}").render()


def test_a_failing_page_answers_500_with_the_security_headers() -> None:
    def broken(event: dict, context: object) -> dict:
        raise RuntimeError("template missing")

    result = read_result(web_handler(broken)(http_event("GET", "/"), FakeLambdaContext()))

    assert result.status == 500
    assert result.json() == {"message": "Internal error; it has been logged"}
    assert_security_headers(result)


SCRIPT_SINKS = re.compile(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\s*\(|new Function\b")


def test_scripts_never_turn_strings_into_html_or_code() -> None:
    # User data (notes, addresses) must reach the page as text only.
    for script in assets.STATIC_DIR.rglob("*.js"):
        found = SCRIPT_SINKS.findall(script.read_text())
        assert not found, f"{script.name} uses {found}"


def test_page_functions_start_without_pydantic_boto3_or_the_store() -> None:
    # Cheap cold starts, and no AWS client or store code in a page function at all. (Powertools imports the
    # bare `botocore` package for its user agent; the session and clients are what cost and what reach AWS.)
    probe = """
import json, sys
from pathlib import Path
from local.functions import load_handler
for folder in sorted(Path("functions").glob("web_*")):
    load_handler(folder, "app.lambda_handler")
heavy = ["pydantic", "boto3", "botocore.session", "postmask.store", "postmask.schemas", "aws_xray_sdk"]
print(json.dumps([name for name in heavy if name in sys.modules]))
"""
    env = {"PYTHONPATH": f"{ROOT / 'layers/common'}:{ROOT / 'layers/web'}:{ROOT}", "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )

    assert json.loads(result.stdout.splitlines()[-1]) == []
