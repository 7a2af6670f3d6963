"""Lambda results for the web functions (API Gateway HTTP API, payload 2.0) and their shared entry point."""

from __future__ import annotations

import base64
import functools
import json
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.logging import Logger, correlation_paths

from postmask_web.headers import SECURITY_HEADERS

# Not postmask.observability: its Tracer pulls in the X-Ray SDK and botocore, which a page never needs.
logger = Logger()

Event = dict[str, Any]
Result = dict[str, Any]
Handler = Callable[[Event, Any], Result]


def response(status: int, body: bytes | str, content_type: str, cache_control: str) -> Result:
    """A result with the security headers; text goes as is, anything else base64-encoded."""
    headers = {**SECURITY_HEADERS, "Content-Type": content_type, "Cache-Control": cache_control}
    if isinstance(body, str):
        return {"statusCode": status, "headers": headers, "body": body, "isBase64Encoded": False}
    return {
        "statusCode": status,
        "headers": headers,
        "body": base64.b64encode(body).decode("ascii"),
        "isBase64Encoded": True,
    }


def error(status: int, message: str) -> Result:
    # The same JSON error body as the API's, so every error of the service reads alike.
    return response(status, json.dumps({"message": message}), "application/json", "no-store")


def web_handler(handle: Handler) -> Handler:
    """The Lambda entry point of a web function: request id in the logs, one log line per request (method,
    path, status; never a header, so never a token), and a 500 that still carries the security headers."""

    @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
    @functools.wraps(handle)
    def lambda_handler(event: Event, context: Any) -> Result:
        try:
            result = handle(event, context)
        except Exception:
            logger.exception("Unhandled error")
            result = error(500, "Internal error; it has been logged")
        http = event.get("requestContext", {}).get("http", {})
        logger.info("request", method=http.get("method"), path=event.get("rawPath"), status=result["statusCode"])
        return result

    return lambda_handler
