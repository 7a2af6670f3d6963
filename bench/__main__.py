"""`python -m bench` (what `make bench` runs): every benchmark, a table, and bench/results.json.

This process is the driver: it seeds the moto server through the store, dry-runs handlers to record their
calls, and starts the measured processes. Its own environment is set before anything imports postmask:
no tracing, no metrics output and only errors logged here, so the driver stays quiet (the measured child
processes have all of it on, as in Lambda).
"""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _prepare() -> None:
    sys.path.insert(0, str(ROOT))
    from local import sam_template

    layers = [
        ROOT / resource["Properties"]["ContentUri"]
        for resource in sam_template.load()["Resources"].values()
        if resource.get("Type") == "AWS::Serverless::LayerVersion"
    ]
    sys.path[1:1] = [str(layer) for layer in layers]
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_SESSION_TOKEN": "bench",
            "AWS_DEFAULT_REGION": "eu-west-1",
            "TABLE_NAME": "postmask-bench",
            "POWERTOOLS_SERVICE_NAME": "postmask",
            "POWERTOOLS_METRICS_NAMESPACE": "Postmask",
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_METRICS_DISABLED": "true",
            "POWERTOOLS_LOG_LEVEL": "ERROR",
            "SIGNIN_MAILER": "postmask-bench-signin-mailer",  # bench.scenarios.SIGNIN_MAILER, a stand-in in moto
        }
    )
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
        os.environ.pop(name, None)
    warnings.filterwarnings("ignore", message="No application metrics to publish")


if __name__ == "__main__":
    _prepare()
    if sys.argv[1:2] == ["profile"]:
        from bench import profile

        sys.exit(profile.main(sys.argv[2:]))
    from bench.run import main

    sys.exit(main())
