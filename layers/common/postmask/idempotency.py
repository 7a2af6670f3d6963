"""`Idempotency-Key` on the POSTs that create something: Powertools' idempotency utility, its DynamoDB persistence
in postmask's own table (decision 0102).

A request that carries a valid key runs once per (user, function, key) for 24 hours: the first one's response
is kept, and a retry with the same body (and query) gets it again, with `Idempotent-Replayed: true`, creating
nothing. The same key with another body is a 422; while the first is still running, a 409. Only a success
(2xx) is kept: a refused request (409 taken, 422...) may be retried with the same key once its cause is fixed.

Records: `IDEMPOTENCY#<user_id>` / `<function>.respond#<sha256 of [user, key]>`, with Powertools' `status`,
`validation` (a hash of the request) and `data`, expiring through the table's TTL attribute `purge_at`. The kept
response is sealed with a key derived from the Idempotency-Key itself, which is never stored: a response that
shows a secret (a new API token) is not readable from the table, as no token is.

Powertools' module (and boto3, which it imports) is loaded only when a request carries a key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import secrets
import zlib
from functools import cache
from typing import Any

from postmask.errors import IdempotencyKeyReused, IdempotentRequestInProgress
from postmask.observability import logger

HEADER = "idempotency-key"
REPLAYED_HEADER = "Idempotent-Replayed"
EXPIRES_SECONDS = 24 * 3600
_VALID_KEY = re.compile(r"[ -~]{1,255}")  # the header's declared pattern (postmask.api.IdempotencyKey)
# What a kept record may hold: DynamoDB items are at most 400 KB. A larger response (a huge import report,
# compressed) is answered the first time and not replayed: a retry then gets a 409 saying so.
_MAX_KEPT_BYTES = 300_000


class _NotKept(Exception):
    """A response that is not a success: handed back as it is, and its record removed (Powertools deletes the
    record of a call that raised)."""

    def __init__(self, response: dict[str, Any]) -> None:
        super().__init__(response.get("statusCode"))
        self.response = response


def key_of(event: dict[str, Any]) -> str | None:
    """The request's Idempotency-Key when it is a valid one; None otherwise (an invalid one is left to the
    route's own header validation, which answers 422)."""
    key = (event.get("headers") or {}).get(HEADER)
    return key if isinstance(key, str) and _VALID_KEY.fullmatch(key) else None


def resolve(app: Any, event: dict[str, Any], context: Any, plain_error: Any) -> dict[str, Any]:
    """`app.resolve(event, context)`, once per Idempotency-Key (see the module's docstring)."""
    key = key_of(event)
    user_id = ((event.get("requestContext") or {}).get("authorizer") or {}).get("lambda", {}).get("user_id")
    if key is None or not isinstance(user_id, str) or not user_id:
        return dict(app.resolve(event, context))
    machinery = _machinery()
    layer, config, errors = machinery.layer, machinery.config, machinery.errors
    layer.static_pk_value = f"IDEMPOTENCY#{user_id}"  # one container serves one request at a time
    config.register_lambda_context(context)
    seal = _Sealer(key, user_id)
    answered: list[dict[str, Any]] = []

    @machinery.idempotent_function(data_keyword_argument="request", persistence_store=layer, config=config)
    def respond(request: dict[str, Any]) -> dict[str, Any]:
        response = dict(app.resolve(event, context))
        if not 200 <= int(response.get("statusCode", 500)) < 300:
            raise _NotKept(response)
        answered.append(response)
        return seal.kept(response)

    try:
        stored = respond(request={"user": user_id, "key": key, "request": _request_of(event)})
    except _NotKept as refused:
        return refused.response
    except errors.IdempotencyValidationError:
        reused = IdempotencyKeyReused.message
        detail = [{"loc": ["header", HEADER], "msg": reused, "type": "idempotency_key_reused"}]
        return plain_error(422, reused, detail=detail)
    except (errors.IdempotencyAlreadyInProgressError, errors.IdempotencyInconsistentStateError):
        return plain_error(409, IdempotentRequestInProgress.message)
    except errors.IdempotencyPersistenceLayerError:
        if not answered:
            raise
        # The work is done but its record could not be completed: answer it (a retry after the record's
        # in-progress expiry would run again, as it would without a key).
        logger.exception("idempotency record not completed")
        return answered[0]
    if answered:  # this request ran: its own response, not the sealed copy
        return answered[0]
    replayed = seal.opened(stored)
    if replayed is None:
        return plain_error(
            409,
            "A request with this Idempotency-Key succeeded in the last 24 hours, but its response was too large to "
            "keep: look at the result (list what it created) rather than retrying",
        )
    replayed.setdefault("headers", {})[REPLAYED_HEADER] = "true"
    return replayed


def _request_of(event: dict[str, Any]) -> dict[str, Any]:
    """What makes two requests the same request: method, path, query and body."""
    http = (event.get("requestContext") or {}).get("http") or {}
    return {
        "method": http.get("method"),
        "path": event.get("rawPath"),
        "query": event.get("rawQueryString") or "",
        "body": event.get("body") or "",
        "base64": bool(event.get("isBase64Encoded")),
    }


class _Machinery:
    def __init__(self) -> None:
        # Imported here: only a request with a key pays for Powertools' idempotency module (and boto3).
        from aws_lambda_powertools.utilities.idempotency import (
            DynamoDBPersistenceLayer,
            IdempotencyConfig,
            exceptions,
            idempotent_function,
        )

        from postmask.settings import get_settings
        from postmask.store import _dynamo

        self.errors = exceptions
        self.idempotent_function = idempotent_function
        self.layer = DynamoDBPersistenceLayer(
            table_name=get_settings().table_name,
            key_attr="pk",
            sort_key_attr="sk",
            static_pk_value="IDEMPOTENCY#",  # set to the caller's partition for each request
            expiry_attr="purge_at",  # the table's TTL attribute: DynamoDB deletes expired records
            boto3_client=_dynamo.client(),
        )
        self.config = IdempotencyConfig(
            event_key_jmespath="[user, key]",
            payload_validation_jmespath="request",
            expires_after_seconds=EXPIRES_SECONDS,
            hash_function="sha256",
        )


@cache
def _machinery() -> _Machinery:
    return _Machinery()


class _Sealer:
    """Seals a kept response with keys derived from the Idempotency-Key (HMAC-SHA256), which the table never
    holds: SHAKE-256 as the key stream (a fresh nonce per response), HMAC-SHA256 over nonce and ciphertext."""

    def __init__(self, key: str, user_id: str) -> None:
        scope = f"postmask idempotency v1\0{user_id}\0{os.environ.get('AWS_LAMBDA_FUNCTION_NAME', '')}".encode()
        root = hmac.new(key.encode(), scope, hashlib.sha256).digest()
        self._cipher_key = hmac.new(root, b"cipher", hashlib.sha256).digest()
        self._mac_key = hmac.new(root, b"mac", hashlib.sha256).digest()

    def _stream(self, nonce: bytes, length: int) -> bytes:
        return hashlib.shake_256(self._cipher_key + nonce).digest(length)

    def kept(self, response: dict[str, Any]) -> dict[str, Any]:
        plain = zlib.compress(json.dumps(response, separators=(",", ":")).encode(), 6)
        if len(plain) > _MAX_KEPT_BYTES:
            return {"too_large": True}
        nonce = secrets.token_bytes(16)
        stream = self._stream(nonce, len(plain))
        sealed = (int.from_bytes(plain) ^ int.from_bytes(stream)).to_bytes(len(plain))
        tag = hmac.new(self._mac_key, nonce + sealed, hashlib.sha256).digest()
        return {"sealed": base64.b64encode(nonce + tag + sealed).decode("ascii")}

    def opened(self, stored: Any) -> dict[str, Any] | None:
        """The kept response; None when it was too large to keep."""
        if not isinstance(stored, dict) or "sealed" not in stored:
            return None
        blob = base64.b64decode(stored["sealed"])
        nonce, tag, sealed = blob[:16], blob[16:48], blob[48:]
        if not hmac.compare_digest(tag, hmac.new(self._mac_key, nonce + sealed, hashlib.sha256).digest()):
            raise RuntimeError("an idempotency record does not open with its own key")
        stream = self._stream(nonce, len(sealed))
        plain = (int.from_bytes(sealed) ^ int.from_bytes(stream)).to_bytes(len(sealed))
        response: dict[str, Any] = json.loads(zlib.decompress(plain))
        return response
