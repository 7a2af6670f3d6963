"""The HTTP plumbing every API function shares: error mapping, the caller, paging parameters, the handler.

A handler file creates its own resolver (a literal `APIGatewayHttpResolver(enable_validation=True)`, which
is how OpenAPIMerge finds it), calls `install(app)` once, and exports `lambda_handler = observed(app)`. It
takes the Powertools names it needs from here (`APIGatewayHttpResolver`, `Response`, `Path`...), not from
Powertools: importing postmask first keeps Powertools' package `__init__` files from importing every
resolver and event class (postmask.lean_imports).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable
from http import HTTPStatus
from typing import TYPE_CHECKING, Annotated, Any, cast

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.event_handler.openapi.params import Header, Path, Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from postmask import versions
from postmask.auth import ALIASES_CREATE_SCOPE, FULL_SCOPE, Caller
from postmask.errors import (
    AdminRequired,
    BadRequest,
    Conflict,
    Forbidden,
    Gone,
    InvalidRequest,
    NotAcceptable,
    NotFound,
    PostmaskError,
    PreconditionFailed,
    RateLimited,
    TooLarge,
    TooManyRequests,
    Unauthenticated,
    UnsupportedMediaType,
)
from postmask.observability import logger, metrics, tracer
from postmask.schemas.common import ErrorBody, Model, ValidationErrorBody

__all__ = [  # what handler files import from here, the Powertools names included
    "ALIASES_CREATE_SCOPE",
    "BEARER",
    "SIMPLELOGIN_KEY_OR_BEARER",
    "APIGatewayHttpResolver",
    "IdempotencyKey",
    "IfMatch",
    "Limit",
    "NextToken",
    "Path",
    "Query",
    "Response",
    "api_host",
    "caller",
    "caller_id",
    "content_types",
    "errors",
    "install",
    "observed",
    "require_admin",
    "tagged",
]

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.openapi.models import SecurityScheme

# Domain errors -> HTTP, once for the whole service. The most specific base class listed first wins.
_STATUS_BY_ERROR: list[tuple[type[PostmaskError], HTTPStatus]] = [
    (NotFound, HTTPStatus.NOT_FOUND),
    (Conflict, HTTPStatus.CONFLICT),
    (BadRequest, HTTPStatus.BAD_REQUEST),
    (InvalidRequest, HTTPStatus.UNPROCESSABLE_ENTITY),
    (Unauthenticated, HTTPStatus.UNAUTHORIZED),
    (Forbidden, HTTPStatus.FORBIDDEN),
    (Gone, HTTPStatus.GONE),
    (TooManyRequests, HTTPStatus.TOO_MANY_REQUESTS),
    (PreconditionFailed, HTTPStatus.PRECONDITION_FAILED),
    (TooLarge, HTTPStatus.REQUEST_ENTITY_TOO_LARGE),
    (NotAcceptable, HTTPStatus.NOT_ACCEPTABLE),
    (UnsupportedMediaType, HTTPStatus.UNSUPPORTED_MEDIA_TYPE),
]

# The security requirement of every protected route, and its scheme. Every resolver declares the scheme
# (Powertools refuses to build a route's OpenAPI schema otherwise); a plain dict, because importing
# Powertools' OpenAPI models would cost every function's cold start ~0.2 s for a document built offline.
BEARER: list[dict[str, list[str]]] = [{"bearerAuth": []}]
SIMPLELOGIN_KEY_OR_BEARER: list[dict[str, list[str]]] = [{"simpleLoginKey": []}, {"bearerAuth": []}]
SECURITY_SCHEMES = cast(
    "dict[str, SecurityScheme]",
    {
        "bearerAuth": {
            "type": "http",
            "scheme": "bearer",
            "description": "An API token: `Authorization: Bearer <token>`. `POST /api/tokens` makes more.",
        },
        "simpleLoginKey": {
            "type": "apiKey",
            "in": "header",
            "name": "Authentication",
            "description": "An API token as SimpleLogin's clients send their key: `Authentication: <token>`. "
            "Only `POST /api/alias/random/new` reads this header.",
        },
    },
)

# Query parameters every list takes.
Limit = Annotated[int, Query(ge=1, le=100, description="How many items per page (1-100)")]
NextToken = Annotated[
    str | None, Query(max_length=2048, description="The `next_token` of the previous page; omit for the first")
]


# Headers of retries and concurrent edits (the contract's "Retries, concurrency and browsers"). Declared on the
# routes that read them, so the document lists them and a malformed one is a 422 like any other parameter.
IDEMPOTENCY_KEY_PATTERN = r"^[ -~]{1,255}$"  # printable ASCII
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="idempotency-key",
        min_length=1,
        max_length=255,
        pattern=IDEMPOTENCY_KEY_PATTERN,
        description="Any 1-255 printable characters (a random UUID is best). The same key with the same body "
        "within 24 hours answers the first response again and creates nothing new; with another body, a 422.",
    ),
]
IfMatch = Annotated[
    str | None,
    Header(
        alias="if-match",
        max_length=1024,
        description="The `ETag` of the version you read: the change is made only if it is still the current one, "
        "else a 412 and nothing changes. `*` matches any version.",
    ),
]


def tagged(body: Any, version: int, *, status: int = HTTPStatus.OK, headers: dict[str, str] | None = None) -> Response:
    """A JSON response carrying the resource's version as its `ETag` (a 204 without body for `body=None`)."""
    all_headers = {"ETag": versions.etag(version), **(headers or {})}
    if body is None:
        return Response(status_code=status, headers=all_headers)
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=body, headers=all_headers)


def error_response(status: int, message: str, **extra: Any) -> Response:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body={"message": message, **extra})


def errors(
    *statuses: int,
    success: tuple[int, str] = (200, "OK"),
    location: str | None = None,
    etag: bool = False,
    model: type[Model] | None = None,
    gateway_model: type[Model] = ErrorBody,
) -> dict[int, OpenAPIResponse]:
    """OpenAPI `responses` for a route: its success status (its body is the handler's return annotation; a 204
    has none) and the error statuses it can answer, each with its JSON model (422 with `detail`).

    Listing 401 marks a protected route: API Gateway then also answers 403 for a wrong, revoked or expired
    token, so both are documented. `location` describes the `Location` header of a 201; `etag` says that the
    success carries the resource's `ETag`. `model`: the body of every error the function itself answers, when it is
    not postmask's (the compatible routes'); `gateway_model`: then that of a 401 or 403, which API Gateway and the
    authorizer may answer too (with postmask's `message`).
    """
    status, description = success
    described: dict[int, OpenAPIResponse] = {status: {"description": description}}
    if status == HTTPStatus.NO_CONTENT:
        described[status]["content"] = {}  # no body; Powertools would otherwise document the return annotation
    headers: dict[str, Any] = {}
    if location is not None:
        headers["Location"] = {"description": location, "schema": {"type": "string"}}
    if etag:
        headers["ETag"] = {
            "description": "The resource's current version: send it as `If-Match` to change it only if it still is",
            "schema": {"type": "string"},
        }
    if headers:
        described[status]["headers"] = headers
    if HTTPStatus.UNAUTHORIZED in statuses:
        statuses = (*statuses, HTTPStatus.FORBIDDEN)
    for error_status in map(int, statuses):
        if model is not None:
            shown = gateway_model if error_status in (HTTPStatus.UNAUTHORIZED, HTTPStatus.FORBIDDEN) else model
        else:
            shown = ValidationErrorBody if error_status == HTTPStatus.UNPROCESSABLE_ENTITY else ErrorBody
        described[error_status] = {
            "description": HTTPStatus(error_status).phrase,
            "content": {"application/json": {"model": shown}},
        }
    return described


def _status_of(exc: PostmaskError) -> HTTPStatus:
    for error_class, status in _STATUS_BY_ERROR:
        if isinstance(exc, error_class):
            return status
    return HTTPStatus.BAD_REQUEST


def _domain_error(exc: PostmaskError) -> Response:
    if isinstance(exc, InvalidRequest):  # a 422 has the `detail` of a validation error, whoever found it
        detail = [{"loc": exc.loc, "msg": exc.message, "type": "value_error"}]
        return error_response(HTTPStatus.UNPROCESSABLE_ENTITY, exc.message, detail=detail)
    response = error_response(_status_of(exc), exc.message)
    if isinstance(exc, RateLimited):
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


def _validation_error(exc: RequestValidationError) -> Response:
    # Powertools' own 422 drops `msg`; ours keeps it (pydantic's messages name no code or file) and says
    # the gist in `message`. The input is never echoed back.
    detail = [
        {"loc": list(error.get("loc", ())), "msg": str(error.get("msg", "invalid")), "type": str(error.get("type"))}
        for error in exc.errors()
    ]
    if any(d["type"] == "json_invalid" for d in detail):
        message = "The body is not valid JSON"
    else:
        message = "Invalid request: " + "; ".join(
            f"{'.'.join(str(part) for part in d['loc'])}: {d['msg']}" for d in detail[:5]
        )
    return error_response(HTTPStatus.UNPROCESSABLE_ENTITY, message, detail=detail)


def _unsupported_content_type(exc: RequestUnsupportedContentType) -> Response:
    return error_response(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "Send the body as application/json")


def _route_not_found(exc: NotFoundError) -> Response:
    return error_response(HTTPStatus.NOT_FOUND, "Not Found")


def _unexpected(exc: Exception) -> Response:
    logger.exception("Unhandled error")
    return error_response(HTTPStatus.INTERNAL_SERVER_ERROR, "Internal error; it has been logged")


def install(app: APIGatewayHttpResolver) -> APIGatewayHttpResolver:
    """Register the shared error mapping (and the security scheme its routes refer to) on a function's resolver."""
    app.configure_openapi(security_schemes=SECURITY_SCHEMES)
    app.exception_handler(PostmaskError)(_domain_error)
    app.exception_handler(RequestValidationError)(_validation_error)
    app.exception_handler(RequestUnsupportedContentType)(_unsupported_content_type)
    app.not_found(_route_not_found)
    app.exception_handler(Exception)(_unexpected)
    return app


def caller(app: APIGatewayHttpResolver) -> Caller:
    """The authenticated caller, from the authorizer's context (`requestContext.authorizer.lambda`)."""
    context = app.current_event.request_context.authorizer.get_lambda
    user_id = context.get("user_id")
    if not isinstance(user_id, str) or not user_id:
        raise Unauthenticated
    is_admin = context.get("is_admin")
    token_id = context.get("token_id")
    return Caller(
        user_id=user_id,
        is_admin=is_admin is True or str(is_admin).lower() == "true",
        token_id=token_id if isinstance(token_id, str) and token_id else None,
        scope=_scope_of(context),
    )


def _scope_of(context: Any) -> str:
    scope = context.get("scope") if isinstance(context, dict) else None
    return scope if isinstance(scope, str) and scope else FULL_SCOPE  # an answer cached before scopes: `all`


def _out_of_scope(event: dict[str, Any], serves: str) -> dict[str, Any] | None:
    """A 403 for a token whose scope this function does not serve: a token of scope `all` may call any route, one
    limited to `aliases:create` only those that create aliases (docs/decisions/0004). Checked here, in every
    function, and not by the authorizer, whose answer API Gateway caches for every route."""
    authorizer = (event.get("requestContext") or {}).get("authorizer") or {}
    scope = _scope_of(authorizer.get("lambda"))
    if scope in (FULL_SCOPE, serves):
        return None
    return _plain_error(
        HTTPStatus.FORBIDDEN,
        f"This token may only create aliases (its scope is {scope}): use a token with scope all for anything else",
    )


def caller_id(app: APIGatewayHttpResolver) -> str:
    return caller(app).user_id


def api_host(app: APIGatewayHttpResolver) -> str | None:
    """The host name the request came to: links in postmask's mail start with it unless PublicUrl is set."""
    return app.current_event.request_context.domain_name or None


def require_admin(app: APIGatewayHttpResolver) -> Caller:
    who = caller(app)
    if not who.is_admin:
        raise AdminRequired
    return who


JSON_ONLY = ("application/json",)


def _unreadable_body(event: dict[str, Any], accepts: tuple[str, ...] = JSON_ONLY) -> dict[str, Any] | None:
    """A response for a body no route can read, before Powertools sees it.

    Powertools turns a multipart body without a boundary, or base64 that is not UTF-8, into an uncaught
    exception (a 500). Every postmask body is JSON (or, where a route `accepts` it, CSV text), so anything else
    is refused here with a clear 4xx.
    """
    body = event.get("body")
    if not body:
        return None
    headers = {name.lower(): value for name, value in (event.get("headers") or {}).items()}
    content_type = headers.get("content-type", "").split(";")[0].strip().lower()
    json_body = not content_type or content_type == "application/json" or content_type.endswith("+json")
    if not json_body and content_type not in accepts:
        return _plain_error(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "Send the body as " + " or ".join(accepts))
    text = body
    if event.get("isBase64Encoded"):
        try:
            text = base64.b64decode(body, validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            # Said as a JSON syntax error is said (422, `json_invalid`): JSON text is UTF-8 by definition.
            what = "JSON" if json_body else "CSV"
            detail = [{"loc": ["body"], "msg": f"{what} text must be UTF-8", "type": "json_invalid"}]
            return _plain_error(HTTPStatus.UNPROCESSABLE_ENTITY, f"The body is not valid {what}", detail=detail)
    if json_body and _nested_too_deep(text):
        # json.loads would recurse once per level and raise RecursionError (a 500) long before any limit of ours.
        msg = f"JSON nested more than {MAX_JSON_DEPTH} levels deep"
        detail = [{"loc": ["body"], "msg": msg, "type": "json_invalid"}]
        return _plain_error(HTTPStatus.UNPROCESSABLE_ENTITY, "The body is not valid JSON", detail=detail)
    return None


MAX_JSON_DEPTH = 64  # no postmask body nests more than a few levels
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_JSON_BRACKET = re.compile(r"[\[\]{}]")


def _nested_too_deep(text: str) -> bool:
    """Whether JSON text opens more than MAX_JSON_DEPTH arrays/objects inside each other (strings skipped).
    One pass over the brackets only, and none at all for a body with too few of them to be that deep."""
    if text.count("[") + text.count("{") <= MAX_JSON_DEPTH:
        return False
    depth = 0
    for bracket in _JSON_BRACKET.finditer(_JSON_STRING.sub('""', text)):
        depth += 1 if bracket.group() in "[{" else -1
        if depth > MAX_JSON_DEPTH:
            return True
    return False


def _plain_error(status: int, message: str, **extra: Any) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"Content-Type": content_types.APPLICATION_JSON},
        "body": json.dumps({"message": message, **extra}),
        "isBase64Encoded": False,
    }


def _carries_a_secret(response: dict[str, Any]) -> bool:
    """Whether a response shows a secret (a `"token":` key: a new token, a new user's first token): no cache,
    browser or proxy, may store it."""
    body = response.get("body")
    return isinstance(body, str) and not response.get("isBase64Encoded") and '"token":' in body


def observed(
    app: APIGatewayHttpResolver,
    *,
    accepts: tuple[str, ...] = JSON_ONLY,
    idempotent: bool = False,
    scope: str = FULL_SCOPE,
    error_shape: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
) -> Callable[[dict[str, Any], LambdaContext], dict[str, Any]]:
    """The Lambda entry point for a resolver: structured logs with the request id, metrics flushed, traced.

    `accepts`: the body types the route reads (JSON always; `text/csv` for the import). `idempotent`: the route
    creates something, and a request with an `Idempotency-Key` runs once (postmask.idempotency). `scope`: the
    limited token scope this route also serves (`aliases:create`); by default only tokens of scope `all`.
    `error_shape`: the body of every error this function answers, rewritten from postmask's (`message`, `detail`)
    into another shape (the compatible routes answer errors as the clients of other services read them)."""
    if idempotent:
        from postmask import idempotency

    @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
    @tracer.capture_lambda_handler(capture_response=False)
    @metrics.log_metrics
    def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        response = _out_of_scope(event, scope) or _unreadable_body(event, accepts)
        if response is None:
            if idempotent:
                response = idempotency.resolve(app, event, context, _plain_error)
            else:
                response = app.resolve(event, context)
        if error_shape is not None and response.get("statusCode", 200) >= HTTPStatus.BAD_REQUEST:
            response = {**response, "body": json.dumps(error_shape(json.loads(response.get("body") or "{}")))}
        if _carries_a_secret(response):
            response.setdefault("headers", {})["Cache-Control"] = "no-store"
        http = event.get("requestContext", {}).get("http", {})
        logger.info(
            "request",
            method=http.get("method"),
            path=event.get("rawPath"),
            status=response.get("statusCode"),
        )
        return response

    return lambda_handler
