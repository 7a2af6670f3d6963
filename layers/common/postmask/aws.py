"""AWS clients for the layer: low-level botocore clients, traced by X-Ray, made when first needed.

botocore rather than boto3: a low-level client is all postmask uses, and `import boto3` adds ~30 ms to every
cold start (s3transfer, multiprocessing, the resource machinery) for nothing. X-Ray's patch of botocore is
applied here, with the first client, rather than when the Tracer is made: a function that calls no AWS
service (health, the web pages) then never imports botocore at all.
"""

from __future__ import annotations

from functools import cache
from typing import Any


@cache
def _session() -> Any:
    from botocore.session import get_session

    return get_session()  # region, credentials and AWS_ENDPOINT_URL from the environment, as boto3 reads them


def new_client(service: str) -> Any:  # botocore builds client classes at run time: nothing static to name
    """A new client for `service` (callers keep theirs: one per container), its calls traced when tracing is on."""
    from postmask.observability import tracer

    tracer.patch(["botocore"])  # once per process; does nothing when tracing is disabled
    return _session().create_client(service)
