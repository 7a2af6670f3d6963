"""One Logger, Metrics and Tracer for the whole service (Powertools), configured by POWERTOOLS_* env vars."""

from __future__ import annotations

import warnings

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger()
metrics = Metrics()
# Not patching every library X-Ray knows at import (that imports botocore, sqlite3, http.client... in every
# function, ~100 ms): postmask.aws patches botocore, the only one we use, when it makes the first client.
tracer = Tracer(auto_patch=False)

# Most requests add no business metric: Powertools would warn about it on every cold start, in every log group.
warnings.filterwarnings("ignore", message="No application metrics to publish", category=UserWarning)
