"""`python -m local.sam_local` (what `make sam-local` runs) without Docker: a stand-in `sam` on PATH records how it
is started and waits to be stopped, while the moto server is checked as the functions' containers would find it."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import boto3
import pytest

from local.sam_local import load_env_json
from local.sam_template import ROOT
from tests.support.stack import free_ports

pytestmark = pytest.mark.e2e
START_SECONDS = 120

FAKE_SAM = """#!/bin/sh
# One line per start: the arguments, then the credentials it was given.
echo "$* | key=$AWS_ACCESS_KEY_ID profile=${AWS_PROFILE-unset}" >> "$SAM_CALLS"
exec sleep 600
"""


def test_it_provisions_one_moto_and_starts_both_sam_servers_and_stops_them(tmp_path: Path) -> None:
    (port,) = free_ports(1)
    env_json = load_env_json()
    for name in env_json["Parameters"]:
        if name.startswith("AWS_ENDPOINT_URL_"):
            env_json["Parameters"][name] = f"http://host.docker.internal:{port}"
    (tmp_path / "env.json").write_text(json.dumps(env_json))
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    sam = bin_dir / "sam"
    sam.write_text(FAKE_SAM)
    sam.chmod(sam.stat().st_mode | stat.S_IEXEC)
    calls = tmp_path / "calls.txt"
    environment = {
        **os.environ,
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "SAM_CALLS": str(calls),
        "AWS_PROFILE": "production",  # a developer's: must not reach SAM CLI (which hands it to every container)
        "POSTMASK_DEV_TOKEN": "pm_e2e_sam_local_token_0123456789abcdef",
        "SAM_LOCAL_BIND": "127.0.0.1",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "local.sam_local", "--env-vars", str(tmp_path / "env.json"), "--outbox", str(tmp_path)],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + START_SECONDS
        while not (calls.exists() and len(calls.read_text().splitlines()) == 2):
            assert process.poll() is None, process.stdout.read() if process.stdout else ""
            assert time.monotonic() < deadline, "sam was not started twice"
            time.sleep(0.1)  # the interval between polls

        start_lambda, start_api = sorted(calls.read_text().splitlines(), key=lambda line: "start-api" in line)
        assert start_lambda.startswith("local start-lambda --host 127.0.0.1 --port 3001 ")
        assert start_api.startswith("local start-api --host 127.0.0.1 --port 3000 ")
        for line in (start_lambda, start_api):
            assert f"--env-vars {tmp_path / 'env.json'}" in line
            assert "--warm-containers LAZY" in line
            assert line.endswith("| key=testing profile=unset")

        aws = {"endpoint_url": f"http://127.0.0.1:{port}", "region_name": "eu-west-1"}
        aws |= {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
        parameters = env_json["Parameters"]
        assert boto3.client("dynamodb", **aws).describe_table(TableName=parameters["TABLE_NAME"])
        receipt = json.loads((ROOT / "events" / "ses-receipt.json").read_text())
        key = "inbound/" + receipt["Records"][0]["ses"]["mail"]["messageId"]
        stored = boto3.client("s3", **aws).get_object(Bucket=parameters["MAIL_BUCKET"], Key=key)["Body"].read()
        assert stored == (ROOT / "events" / "ses-receipt.eml").read_bytes()
        sesv2 = boto3.client("sesv2", **aws)
        assert sesv2.get_configuration_set(ConfigurationSetName=parameters["CONFIGURATION_SET"])
        assert sesv2.get_email_identity(EmailIdentity=parameters["SENDER_ADDRESS"])["IdentityType"] == "EMAIL_ADDRESS"
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=60)
    assert process.returncode == 0, output
    assert b"token: pm_e2e_sam_local_token_0123456789abcdef" in output
