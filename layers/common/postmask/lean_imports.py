"""Import only the part of Powertools a function uses: its packages' `__init__` files import everything.

`aws_lambda_powertools.event_handler/__init__.py` imports every resolver (AppSync pulls in asyncio, the
Bedrock ones their models) and `utilities/data_classes/__init__.py` every event class: ~45 ms of a cold
start for an HTTP function that uses one resolver and one event class (decision 0052). Python runs a
package's `__init__` before any of its submodules, so the only way around it is to register the package
first without running it. `skip_package_init` does that, and keeps the package whole: a submodule asked of
it is imported, and the first other name asked of it runs the real `__init__` then (slower, never wrong).

`postmask/__init__.py` calls `install()`, so it applies to every function whose first import is postmask's.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Mapping, Sequence
from typing import Any

# The names that Powertools' own modules, and ours, take from these packages rather than from their submodules
# (as of 3.37: `api_gateway` imports these event classes, `openapi.params` imports `Response`), and where each
# is defined. A name missing here costs time, not correctness: tests/unit/test_lean_imports.py notices.
_NAMES_FROM: dict[str, Mapping[str, Sequence[str]]] = {
    "aws_lambda_powertools.utilities.data_classes": {
        "alb_event": ["ALBEvent"],
        "api_gateway_proxy_event": ["APIGatewayProxyEvent", "APIGatewayProxyEventV2"],
        "bedrock_agent_event": ["BedrockAgentEvent"],
        "lambda_function_url_event": ["LambdaFunctionUrlEvent"],
        "vpc_lattice": ["VPCLatticeEvent", "VPCLatticeEventV2"],
    },
    "aws_lambda_powertools.event_handler": {
        "api_gateway": ["APIGatewayHttpResolver", "ApiGatewayResolver", "Response", "CORSConfig"],
    },
}


def skip_package_init(name: str, names_from: Mapping[str, Sequence[str]]) -> None:
    """Register package `name` without running its `__init__`; `names_from` ({submodule: names}) says where
    the names its `__init__` would define come from. Does nothing if the package is imported already."""
    if name in sys.modules:
        return
    try:
        spec = importlib.util.find_spec(name)
    except ModuleNotFoundError:  # Powertools is not installed: nothing to register
        return
    if spec is None or spec.loader is None or spec.submodule_search_locations is None:
        return
    package = importlib.util.module_from_spec(spec)
    loader = spec.loader
    home = {attribute: submodule for submodule, attributes in names_from.items() for attribute in attributes}

    def __getattr__(attribute: str) -> Any:  # PEP 562: only called for names the package does not have yet
        if attribute in home:
            value = getattr(importlib.import_module(f"{name}.{home[attribute]}"), attribute)
            setattr(package, attribute, value)
            return value
        if not attribute.startswith("__") and importlib.util.find_spec(f"{name}.{attribute}") is not None:
            return importlib.import_module(f"{name}.{attribute}")  # `from package import submodule`
        if "__getattr__" in package.__dict__:
            del package.__dict__["__getattr__"]
            loader.exec_module(package)  # a name only the real __init__ defines: run it, once
            if attribute in package.__dict__:
                return package.__dict__[attribute]
        raise AttributeError(f"module {name!r} has no attribute {attribute!r}")

    package.__dict__["__getattr__"] = __getattr__
    sys.modules[name] = package
    parent, _, child = name.rpartition(".")
    setattr(sys.modules[parent], child, package)  # find_spec imported the parent


def install() -> None:
    """Every package of _NAMES_FROM registered without its __init__ (what postmask/__init__.py does)."""
    for name, names_from in _NAMES_FROM.items():
        skip_package_init(name, names_from)
