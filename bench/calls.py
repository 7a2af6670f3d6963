"""The DynamoDB calls a request makes, seen through botocore's event hooks on the store's own client.

`CallRecorder` registers on `before-call.dynamodb` (every operation of that client) and keeps each call's
operation and parameters, and on `after-call.dynamodb` what moto says it cost (bench/moto_server.py). With
`execute_writes=False` it answers writes itself instead of sending them: a dry run whose recorded calls the
floor (bench/floor/app.py) then makes for real, so that they succeed exactly as the function's did.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from botocore import xform_name
from botocore.awsrequest import AWSResponse
from botocore.compat import HTTPHeaders

from bench.moto_server import SERVER_TIME_HEADER

WRITE_OPERATIONS = frozenset({"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"})


@dataclass(frozen=True)
class Call:
    service: str
    operation: str  # as the API names it: "GetItem"
    params: dict[str, Any]  # DynamoDB's JSON protocol sends the API parameters themselves as the body

    def as_floor_call(self) -> dict[str, Any]:
        return {"service": self.service, "method": xform_name(self.operation), "params": self.params}


@dataclass
class CallRecorder:
    """`with CallRecorder(client) as recorded:` every call `client` makes inside the block."""

    client: Any
    execute_writes: bool = True
    calls: list[Call] = field(default_factory=list)
    server_ms: list[float] = field(default_factory=list)  # moto's time per call sent
    responses: list[dict[str, Any]] = field(default_factory=list)

    def __enter__(self) -> CallRecorder:
        events = self.client.meta.events
        events.register("before-call.dynamodb", self._before_call, unique_id=f"bench-before-{id(self)}")
        events.register("after-call.dynamodb", self._after_call, unique_id=f"bench-after-{id(self)}")
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        events = self.client.meta.events
        events.unregister("before-call.dynamodb", unique_id=f"bench-before-{id(self)}")
        events.unregister("after-call.dynamodb", unique_id=f"bench-after-{id(self)}")

    def counts(self) -> Counter[str]:
        return Counter(call.operation for call in self.calls)

    def _before_call(self, model: Any, params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        body = params.get("body") or b"{}"
        self.calls.append(Call("dynamodb", model.name, json.loads(body)))
        if self.execute_writes or model.name not in WRITE_OPERATIONS:
            return None
        # Answered here, not sent: the write stays undone for the floor to make.
        return AWSResponse(params.get("url", ""), 200, HTTPHeaders(), None), {
            "ResponseMetadata": {"HTTPStatusCode": 200}
        }

    def _after_call(self, http_response: Any, parsed: dict[str, Any], **_: Any) -> None:
        self.responses.append(parsed)
        header = http_response.headers.get(SERVER_TIME_HEADER) if http_response is not None else None
        if header is not None:
            self.server_ms.append(float(header))
