"""Fixtures for the whole suite: a fake AWS environment, a moto table built from template.yaml, users."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import botocore.client
import botocore.handlers
import pytest

if TYPE_CHECKING:
    from tests.support.lambdas import Invocations

# Before anything imports boto3: no real credentials, no real AWS, ever.
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "TABLE_NAME": "postmask-test",
        "POWERTOOLS_SERVICE_NAME": "postmask",
        "POWERTOOLS_METRICS_NAMESPACE": "Postmask",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "INFO",
        # In tests a function is invoked by its logical id (tests/support/lambdas.py).
        "SIGNIN_MAILER": "SignInMailerFunction",
    }
)
os.environ.pop("AWS_ENDPOINT_URL", None)
os.environ.pop("AWS_PROFILE", None)

# Create the service's Logger now, bound to the real stdout: created inside a test that uses `capsys`, its
# handler would keep that test's stream and fail ("I/O operation on closed file") for every later test.
import postmask.observability  # noqa: F401

# --- every AWS call a function makes, checked against its own IAM statements (decision 0074) ---------------
# moto enforces no IAM condition: the calls each handler makes are recorded (for every botocore session made from
# now on) and evaluated against that function's statements in the transformed template when each test ends, so
# the test that made a call its deployed function would be refused fails, whatever subset of tests runs (and
# under pytest-xdist, each worker checks its own tests). The terminal summary lists what no call used.
from tests.support import iam_policy
from tests.support.aws_calls import Recorder

_aws_calls = Recorder()
_aws_calls.variables = iam_policy.environment_variables()
botocore.handlers.BUILTIN_HANDLERS.append(("before-parameter-build", _aws_calls.hook))
_iam = iam_policy.Evaluator()


def pytest_runtest_setup(item: pytest.Item) -> None:
    _aws_calls.test = item.nodeid


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    calls = _aws_calls.drain() if call.when == "teardown" else []
    refused = _iam.check(calls)
    report = outcome.get_result()  # type: ignore[attr-defined]
    if not refused:
        return
    explained = "\n\n".join(iam_policy.explain(verdict) for verdict in refused)
    if report.passed:
        report.outcome = "failed"
        report.longrepr = explained
    else:  # the teardown failed already: say both
        report.sections.append(("IAM calls refused", explained))


def pytest_sessionfinish(session: pytest.Session) -> None:
    if hasattr(session.config, "workeroutput"):  # a pytest-xdist worker: the controller prints the summary
        session.config.workeroutput["iam_used"] = sorted(_iam.used)
        session.config.workeroutput["iam_called"] = sorted(_iam.functions_called)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    output = getattr(node, "workeroutput", {})
    _iam.used.update(tuple(entry) for entry in output.get("iam_used", ()))
    _iam.functions_called.update(output.get("iam_called", ()))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    unused = _iam.unused()
    if unused:
        terminalreporter.section("IAM statement actions no recorded call used (in the tests that ran)")
        for function, idle in unused.items():
            terminalreporter.write_line(f"{function}: " + "; ".join(idle))


_make_api_call = botocore.client.BaseClient._make_api_call


def _no_scan(self: botocore.client.BaseClient, operation_name: str, api_params: dict) -> dict:
    if operation_name == "Scan":
        raise AssertionError("DynamoDB Scan called: lists must be Queries (see postmask/store/__init__.py)")
    return _make_api_call(self, operation_name, api_params)


@pytest.fixture(autouse=True, scope="session")
def _forbid_scans() -> Iterator[None]:
    """Fails any DynamoDB Scan made anywhere in the suite."""
    botocore.client.BaseClient._make_api_call = _no_scan  # type: ignore[method-assign]
    yield
    botocore.client.BaseClient._make_api_call = _make_api_call  # type: ignore[method-assign]


@pytest.fixture
def aws() -> Iterator[None]:
    """A fresh moto world, its SES behaving as SES where postmask relies on it (local/ses.py: every domain
    registration sets a custom MAIL FROM, which moto alone does not implement); the store's cached clients are
    reset so they bind to it. A function invoked by another is kept, not run (see `invocations`)."""
    from moto import mock_aws

    from local.lambdas import set_dispatch
    from local.ses import emulate_ses
    from postmask.settings import get_settings
    from postmask.store import _dynamo
    from tests.support.lambdas import Invocations

    emulate_ses()
    with mock_aws():
        _dynamo.client.cache_clear()
        get_settings.cache_clear()
        previous = set_dispatch(Invocations().dispatch)
        yield
        set_dispatch(previous)
        _dynamo.client.cache_clear()


@pytest.fixture
def invocations(aws: None) -> Iterator[Invocations]:
    """The functions invoked asynchronously during the test; `invocations.run()` runs them."""
    from local.lambdas import set_dispatch
    from tests.support.lambdas import Invocations

    recorder = Invocations()
    previous = set_dispatch(recorder.dispatch)
    yield recorder
    set_dispatch(previous)


@pytest.fixture
def table(aws: None) -> str:
    """The table, created from template.yaml's own properties."""
    import boto3

    from local.sam_template import table_definition

    name = os.environ["TABLE_NAME"]
    boto3.client("dynamodb").create_table(TableName=name, **table_definition())
    return name
