"""The pages: Jinja2 templates (`base.html` and pages that extend it), rendered once per container.

A page is the same for everyone (a shell: forms, empty tables, row templates); the browser fills it with
the user's data from the API, so the rendered HTML can be cached in the container and by the browser for
as long as its static files do not change.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import jinja2

from postmask_web.assets import url_for
from postmask_web.http import Event, Handler, Result, response, web_handler

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"

# Revalidate every time: a new deployment changes the static URLs a page links to.
PAGE_CACHE_CONTROL = "no-cache"


@cache
def environment() -> jinja2.Environment:
    """Created on first use, not at import: a cold start that never renders pays nothing for it."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,  # every template is HTML: anything interpolated is escaped
        undefined=jinja2.StrictUndefined,  # a typo in a template is an error, not an empty string
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.globals["static_url"] = url_for
    return env


@cache
def render(template: str, **values: str | int) -> str:
    return environment().get_template(template).render(**values)


def page(template: str, **values: str | int) -> Handler:
    """The Lambda handler of one page; `values` are the deployment's settings the page states (the same for
    everyone, so the page is still rendered once)."""

    def serve_page(event: Event, context: Any) -> Result:
        return response(200, render(template, **values), "text/html; charset=utf-8", PAGE_CACHE_CONTROL)

    return web_handler(serve_page)
