"""The mail layer's imports run one way (docs/decisions/0024): no module of postmask.mail imports, at the top or
inside a function, a module that imports it back, directly or through others."""

from __future__ import annotations

import ast
from pathlib import Path

MAIL = Path(__file__).resolve().parents[2] / "layers" / "common" / "postmask" / "mail"
PACKAGE = "postmask.mail"


def _imported(path: Path, modules: set[str]) -> set[str]:
    """The modules of postmask.mail that `path` imports, wherever the import statement is."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            if name.startswith(PACKAGE + ".") and name.split(".")[2] in modules:
                found.add(name.split(".")[2])
    return found - {path.stem}


def imports_of_the_mail_layer() -> dict[str, set[str]]:
    modules = {path.stem for path in MAIL.glob("*.py") if path.stem != "__init__"}
    return {module: _imported(MAIL / f"{module}.py", modules) for module in sorted(modules)}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every circle found by a depth-first walk, as the modules along it (the first repeated at the end)."""
    found: list[list[str]] = []
    done: set[str] = set()

    def walk(module: str, path: list[str]) -> None:
        if module in path:
            found.append([*path[path.index(module) :], module])
            return
        if module in done:
            return
        for imported in sorted(graph.get(module, ())):
            walk(imported, [*path, module])
        done.add(module)

    for module in sorted(graph):
        walk(module, [])
    return found


def test_the_walk_finds_a_circle_when_there_is_one() -> None:
    assert cycles({"lines": {"message"}, "message": {"headers", "lines"}, "headers": set()}) == [
        ["lines", "message", "lines"]
    ]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": set()}) == []


def test_the_mail_layer_has_no_import_circle() -> None:
    graph = imports_of_the_mail_layer()
    assert {"forwarder", "message", "lines", "headers"} <= set(graph)  # the walk reads the real modules
    assert "headers" in graph["message"]  # and follows a `from postmask.mail import ...`
    assert cycles(graph) == []
