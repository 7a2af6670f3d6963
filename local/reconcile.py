"""`python -m local.reconcile [--day YYYY-MM-DD]`: the daily reconciliation, run now against `make run`'s stack.

It runs the template's ReconcileFunction (postmask.reconcile) in this process, against the running local stack's
embedded AWS (its URL is in `.postmask/aws-endpoint` while the stack runs), for the day given or today (the
schedule in AWS reconciles the day before; locally today's mail is what there is). It prints how every message
stored that day ended (forwarded, blocked, dropped, quarantined...), those still inside their retry window, and
those unaccounted for; the exit status is 1 when any is unaccounted.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import date
from pathlib import Path

from local.resources import physical_name
from local.stack import ENDPOINT_FILE, Config, local_aws_environment


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.reconcile", description=__doc__.split("\n\n")[0])
    parser.add_argument("--day", type=date.fromisoformat, default=None, help="YYYY-MM-DD (default: today, UTC)")
    parser.add_argument("--state", type=Path, default=Path(".postmask"), help="the stack's directory [.postmask]")
    args = parser.parse_args(argv)
    endpoint_file = args.state / ENDPOINT_FILE
    if not endpoint_file.is_file():
        print(f"No running postmask ({endpoint_file} is missing): start it with `make run` first.")
        return 1
    os.environ.update(
        {
            **local_aws_environment(endpoint_file.read_text(encoding="utf-8").strip(), Config.region),
            "TABLE_NAME": physical_name("Table"),
            "MAIL_BUCKET": physical_name("MailBucket"),
            "MAIL_PREFIX": "inbound/",
            "POWERTOOLS_LOG_LEVEL": "WARNING",
            "POWERTOOLS_METRICS_DISABLED": "true",  # stdout is the report; in AWS the metrics go to CloudWatch
            "POWERTOOLS_METRICS_NAMESPACE": "Postmask",
            "POWERTOOLS_SERVICE_NAME": "postmask",
        }
    )
    from local import sam_template
    from local.functions import FakeLambdaContext, load_handler

    function = sam_template.functions()["ReconcileFunction"]["Properties"]
    handler = load_handler(sam_template.ROOT / function["CodeUri"], function["Handler"])
    day = args.day or date.today()
    report = handler({"day": day.isoformat()}, FakeLambdaContext("ReconcileFunction"))
    print(json.dumps(report, indent=2))
    return 1 if report["unaccounted"] else 0


if __name__ == "__main__":
    sys.exit(main())
