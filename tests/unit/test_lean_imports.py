"""postmask.lean_imports: functions import one Powertools resolver, not all of them, and nothing breaks.

Each check runs in a new interpreter: this test process has imported Powertools whole already.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from local import sam_template

ROOT = Path(__file__).resolve().parents[2]
LAYER = ROOT / "layers" / "common"
EVENT_HANDLER = "aws_lambda_powertools.event_handler"
DATA_CLASSES = "aws_lambda_powertools.utilities.data_classes"


def _run(code: str) -> object:
    prologue = f"import importlib.util, json, sys\nsys.path.insert(0, {str(LAYER)!r})\n"
    result = subprocess.run([sys.executable, "-c", prologue + code], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def _handlers_using_postmask() -> list[str]:
    paths = []
    for name in sam_template.functions():
        app = ROOT / sam_template.load()["Resources"][name]["Properties"]["CodeUri"] / "app.py"
        if re.search(r"^from postmask[. ]", app.read_text(encoding="utf-8"), re.MULTILINE):
            paths.append(str(app))
    return paths


def test_no_function_runs_the_catch_all_package_inits() -> None:
    """Each postmask function's handler, imported alone, leaves Powertools' two catch-all __init__ files
    unrun (a handler importing Powertools before postmask, or a name missing from lean_imports' table, would
    run one), and so asyncio (AppSync's) unimported."""
    handlers = _handlers_using_postmask()
    assert len(handlers) >= 15
    ran = _run(
        "ran = {}\n"
        f"for number, path in enumerate({handlers!r}):\n"
        "    fresh = ('aws_lambda_powertools', 'postmask')\n"
        "    for name in [name for name in sys.modules if name.split('.')[0] in fresh]:\n"
        "        del sys.modules[name]\n"
        "    spec = importlib.util.spec_from_file_location(f'handler{number}', path)\n"
        "    spec.loader.exec_module(importlib.util.module_from_spec(spec))\n"
        f"    ran[path] = ['AppSyncResolver' in vars(sys.modules[{EVENT_HANDLER!r}]),\n"
        f"        'SQSEvent' in vars(sys.modules.get({DATA_CLASSES!r}, sys)), 'asyncio' in sys.modules]\n"
        "print(json.dumps(ran))"
    )
    assert ran == {handler: [False, False, False] for handler in handlers}


def test_the_registered_packages_still_give_every_name() -> None:
    """A name the table does not list still comes (the real __init__ runs then); a submodule comes alone."""
    answers = _run(
        "import postmask\n"
        f"from aws_lambda_powertools.event_handler import content_types\n"
        f"after_submodule = 'AppSyncResolver' in vars(sys.modules[{EVENT_HANDLER!r}])\n"
        "from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, AppSyncResolver\n"
        "from aws_lambda_powertools.utilities.data_classes import SQSEvent\n"
        "try:\n"
        "    from aws_lambda_powertools.event_handler import NoSuchThing\n"
        "    missing = 'imported'\n"
        "except ImportError:\n"
        "    missing = 'ImportError'\n"
        "print(json.dumps([content_types.APPLICATION_JSON, after_submodule, APIGatewayHttpResolver.__name__,\n"
        "    AppSyncResolver.__name__, SQSEvent.__name__, missing]))"
    )
    assert answers == [
        "application/json",
        False,
        "APIGatewayHttpResolver",
        "AppSyncResolver",
        "SQSEvent",
        "ImportError",
    ]


def test_a_package_imported_before_postmask_is_left_alone() -> None:
    ran = _run(
        "import aws_lambda_powertools.event_handler as real\n"
        "import postmask\n"
        f"print(json.dumps([sys.modules[{EVENT_HANDLER!r}] is real, 'AppSyncResolver' in vars(real)]))"
    )
    assert ran == [True, True]


def test_no_function_imports_jinja2_before_it_sends_mail() -> None:
    """postmask.system_mail imports Jinja2 when it renders: a function pays for it only when it sends mail
    (the web page functions render with it, from their own layer, and are not postmask's)."""
    handlers = _handlers_using_postmask()
    imported = _after_importing_each(handlers, "'jinja2' in sys.modules")
    assert imported == dict.fromkeys(handlers, False)


def test_no_function_imports_the_idempotency_utility_or_boto3_before_a_key_comes() -> None:
    """Powertools' idempotency module imports boto3 (~30 ms): only a request with an Idempotency-Key loads it."""
    handlers = _handlers_using_postmask()
    imported = _after_importing_each(
        handlers, "['aws_lambda_powertools.utilities.idempotency' in sys.modules, 'boto3' in sys.modules]"
    )
    assert imported == {handler: [False, False] for handler in handlers}


def _after_importing_each(handlers: list[str], check: str) -> object:
    """In one new interpreter, each handler imported in turn and `check` (a Python expression) read after it."""
    return _run(
        "found = {}\n"
        f"for number, path in enumerate({handlers!r}):\n"
        "    spec = importlib.util.spec_from_file_location(f'handler{number}', path)\n"
        "    spec.loader.exec_module(importlib.util.module_from_spec(spec))\n"
        f"    found[path] = {check}\n"
        "print(json.dumps(found))"
    )


# What the authorizer must not import, at its import or during a request: it is on the critical path of every
# session's first request (decision 0130). It validates one header and reads one item.
_NOT_FOR_THE_AUTHORIZER = (
    "pydantic",
    "pydantic_core",
    "email_validator",
    "idna",
    "jinja2",
    "aws_lambda_powertools.event_handler.api_gateway",
    "aws_lambda_powertools.event_handler.openapi",
    "postmask.api",
    "postmask.schemas",
    "boto3",
)


def test_the_authorizer_imports_no_resolver_no_models_no_validator() -> None:
    """The authorizer's handler, imported alone and run on a request (a token accepted, its last use written,
    then one refused), leaves pydantic, the resolver, postmask's models and the e-mail validator unimported.
    Its DynamoDB calls are answered in the process (the store's two functions replaced): no AWS needed."""
    handler = ROOT / "functions" / "authorizer" / "app.py"
    imported = _run(
        "import os\n"
        "os.environ.update(TABLE_NAME='t', POWERTOOLS_TRACE_DISABLED='true', POWERTOOLS_LOG_LEVEL='ERROR')\n"
        f"spec = importlib.util.spec_from_file_location('authorizer', {str(handler)!r})\n"
        "module = importlib.util.module_from_spec(spec)\n"
        "spec.loader.exec_module(module)\n"
        "at_import = sorted(sys.modules)\n"
        "from postmask.store import _dynamo\n"
        "item = {'pk': 'TOKEN#x', 'user_id': 'u1', 'token_id': 't1', 'is_admin': False, 'last_used_at': None}\n"
        "_dynamo.get_item = lambda pk, sk: item if pk != 'TOKEN#' + __import__('hashlib').sha256(b'pm_no')"
        ".hexdigest() else None\n"
        "written = []\n"
        "_dynamo.transact = written.append\n"
        "class Context:\n"
        "    function_name, memory_limit_in_mb, aws_request_id = 'authorizer', 128, 'r1'\n"
        "    invoked_function_arn = 'arn:aws:lambda:eu-west-1:123456789012:function:authorizer'\n"
        "def event(token):\n"
        "    return {'type': 'REQUEST', 'headers': {'Authorization': 'Bearer ' + token}}\n"
        "answers = [module.lambda_handler(event(t), Context())['isAuthorized'] for t in ('pm_yes', 'pm_no')]\n"
        f"unwanted = {list(_NOT_FOR_THE_AUTHORIZER)!r}\n"
        "def found(names):\n"
        "    return sorted({u for u in unwanted for n in names if n == u or n.startswith(u + '.')})\n"
        "print(json.dumps([answers, len(written), found(at_import), found(sys.modules)]))"
    )
    assert imported == [[True, False], 1, [], []]
