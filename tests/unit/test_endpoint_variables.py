"""The template declares an empty AWS_ENDPOINT_URL_<SERVICE> for every service a function calls, so that
`sam local --env-vars env.json` may set it (decision 0011). Empty must mean "not set" to botocore: AWS's own
endpoint in Lambda, and `make run`'s AWS_ENDPOINT_URL (its moto) locally."""

from __future__ import annotations

import pytest

from local import sam_template

ENDPOINT_VARIABLES = sorted(
    name
    for name in sam_template.load()["Globals"]["Function"]["Environment"]["Variables"]
    if name.startswith("AWS_ENDPOINT_URL_")
)
SERVICES = {"dynamodb": "DYNAMODB", "s3": "S3", "sesv2": "SESV2", "ses": "SES", "lambda": "LAMBDA", "sqs": "SQS"}


def _endpoint(service: str) -> str:
    from botocore.session import get_session

    url: str = get_session().create_client(service, region_name="eu-west-1").meta.endpoint_url
    return url


def test_every_service_listed_has_its_variable_declared_empty() -> None:
    variables = sam_template.load()["Globals"]["Function"]["Environment"]["Variables"]
    for suffix in SERVICES.values():
        assert variables[f"AWS_ENDPOINT_URL_{suffix}"] == ""


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_an_empty_variable_leaves_aws_own_endpoint(service: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """In Lambda: every variable empty, no AWS_ENDPOINT_URL."""
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    for name in ENDPOINT_VARIABLES:
        monkeypatch.setenv(name, "")
    assert _endpoint(service).endswith(".amazonaws.com")


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_an_empty_variable_leaves_make_runs_endpoint(service: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """`make run` gives every function AWS_ENDPOINT_URL (its moto) beside the template's empty variables."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4599")
    for name in ENDPOINT_VARIABLES:
        monkeypatch.setenv(name, "")
    assert _endpoint(service) == "http://127.0.0.1:4599"


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_a_set_variable_wins(service: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """`sam local` with env.json: the service's own variable."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1")
    monkeypatch.setenv(f"AWS_ENDPOINT_URL_{SERVICES[service]}", "http://host.docker.internal:4599")
    assert _endpoint(service) == "http://host.docker.internal:4599"
