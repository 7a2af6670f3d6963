"""The AWS calls a request makes, as botocore sees them.

`CallRecorder` counts the DynamoDB calls of the store's client through botocore's event hooks
(`before-call.dynamodb`, and `after-call.dynamodb` for what moto says each cost, bench/moto_server.py).

`DryRun` records every call of every client in the process, with its parameters, for the floor
(bench/floor/app.py) to make the same calls: DynamoDB writes are answered without being sent, so that when
the floor makes them for real they succeed exactly as the function's would have.
"""

from __future__ import annotations

import copy
import json
from collections import Counter
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from botocore import xform_name
from botocore.client import BaseClient

from bench.moto_server import SERVER_TIME_HEADER

WRITE_OPERATIONS = frozenset({"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"})


def describe(counts: dict[str, int] | None) -> str:
    """Calls per operation as the report prints them: "1 GetItem + 2 PutItem"."""
    if counts is None:
        return "(none promised)"
    return " + ".join(f"{n} {operation}" for operation, n in sorted(counts.items())) or "none"


@dataclass(frozen=True)
class Call:
    service: str
    operation: str  # as the API names it: "GetItem"
    params: dict[str, Any]  # DynamoDB's JSON protocol sends the API parameters themselves as the body

    def as_floor_call(self) -> dict[str, Any]:
        """The call as the floor's event carries it (JSON): a blob (a Lambda payload) as its UTF-8 text, which
        botocore sends as the same bytes."""
        return {"service": self.service, "method": xform_name(self.operation), "params": _as_json(self.params)}


def _as_json(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if isinstance(value, dict):
        return {key: _as_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_as_json(item) for item in value]
    return value


class DryRun:
    """`with DryRun() as calls:` every AWS call made inside the block, by any client, DynamoDB writes unsent."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self._original: Any = None

    def __enter__(self) -> DryRun:
        self._original = original = BaseClient._make_api_call  # type: ignore[attr-defined]
        calls = self.calls

        def record(client: BaseClient, operation_name: str, api_params: dict[str, Any]) -> Any:
            service = client.meta.service_model.service_name
            calls.append(Call(service, operation_name, copy.deepcopy(api_params)))
            if service == "dynamodb" and operation_name in WRITE_OPERATIONS:
                if operation_name in {"UpdateItem", "DeleteItem"} and api_params.get("ReturnValues", "NONE") != "NONE":
                    # The caller reads the item back (a verification's ALL_NEW, a quarantined copy deleted with its
                    # ALL_OLD): the item as it stands stands in for it, read unrecorded, so that the function
                    # answers as it would instead of failing.
                    key = {"TableName": api_params["TableName"], "Key": api_params["Key"]}
                    return {"Attributes": original(client, "GetItem", key).get("Item", {})}
                return {}  # what TransactWriteItems answers; left for the floor to make
            return original(client, operation_name, api_params)

        BaseClient._make_api_call = record  # type: ignore[attr-defined]
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        BaseClient._make_api_call = self._original  # type: ignore[attr-defined]


@dataclass
class CallRecorder:
    """`with CallRecorder(client) as recorded:` every call `client` makes inside the block."""

    client: Any
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

    def _before_call(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        self.calls.append(Call("dynamodb", model.name, json.loads(params.get("body") or b"{}")))

    def _after_call(self, http_response: Any, parsed: dict[str, Any], **_: Any) -> None:
        self.responses.append(parsed)
        header = http_response.headers.get(SERVER_TIME_HEADER) if http_response is not None else None
        if header is not None:
            self.server_ms.append(float(header))
