"""Every AWS call a function makes in the suite, as the IAM requests AWS would authorise it by.

A botocore `before-parameter-build` hook (registered for every botocore session, so for every client any code
makes) sees each call's operation and parameters before they are sent. A call made while a function's handler
runs (local.functions.running: the handler's code folder, set by `load_handler`) is kept, with the function's
logical id; a call made by the test around it (setting up a table, reading what a handler wrote) is not.

Each kept call becomes one or more `Request`s: the IAM action, the resource ARN and the condition keys the
template's statements use (tests/support/iam_policy.py evaluates them; decision 0074 says which keys and why
no others). Only what postmask calls is modelled; any other operation is requested on resource "*".
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from email.utils import getaddresses, parseaddr
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from local import sam_template
from local.functions import running

ACCOUNT = "123456789012"  # moto's account


@dataclass(frozen=True)
class Request:
    """One authorisation: AWS allows the call only if every request of it is allowed."""

    action: str  # "dynamodb:GetItem"
    resource: str  # an ARN, or "*"
    context: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # condition key -> its values

    def describe(self) -> str:
        keys = ", ".join(f"{key}={list(values)}" for key, values in sorted(self.context.items()))
        return f"{self.action} on {self.resource}" + (f" ({keys})" if keys else "")


@dataclass(frozen=True)
class Call:
    function: str  # logical id
    operation: str  # "dynamodb.GetItem"
    requests: tuple[Request, ...]
    environment: Mapping[str, str]  # the variables the template's policies are resolved from, as they were
    test: str  # the test it was made in
    problem: str = ""  # why it could not be modelled (a failure of its own)


class UnknownFunctionError(LookupError):
    """A handler ran whose code folder no function of the template (or more than one, ambiguously) has."""


@cache
def _functions_by_code() -> dict[Path, tuple[str, ...]]:
    found: dict[Path, list[str]] = {}
    for name, spec in sam_template.function_specs().items():
        found.setdefault(spec.code_dir.resolve(), []).append(name)
    return {code: tuple(names) for code, names in found.items()}


def function_of(code_dir: Path, context_name: str) -> str:
    """The logical id of the function whose code runs: its CodeUri; the context's name if several share one."""
    names = _functions_by_code().get(code_dir, ())
    if len(names) == 1:
        return names[0]
    if context_name in names:
        return context_name
    raise UnknownFunctionError(f"{code_dir}: the functions of template.yaml with this CodeUri are {list(names)}")


class Recorder:
    """Collects the calls functions make; `drain()` hands over (and forgets) those made since it was last called."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.test = ""  # set by the plugin as each test starts
        self.variables: frozenset[str] = frozenset()  # the environment variables a Call keeps

    def hook(self, params: dict[str, Any], model: Any, context: Mapping[str, Any], **_: Any) -> None:
        current = running.get()
        if current is None:
            return  # the test's own call, not a function's
        service = model.service_model.signing_name or model.service_model.endpoint_prefix
        region = str(context.get("client_region") or os.environ.get("AWS_DEFAULT_REGION", "eu-west-1"))
        environment = {name: os.environ[name] for name in self.variables if name in os.environ}
        operation = f"{service}.{model.name}"
        # Never raise here: a handler catching the error would behave differently. A call not modelled fails later.
        try:
            function = function_of(*current)
        except UnknownFunctionError as exc:
            self.calls.append(Call("?", operation, (), environment, self.test, problem=str(exc)))
            return
        try:
            requests = tuple(requests_for(service, model.name, params, region))
        except (KeyError, ValueError, TypeError) as exc:
            problem = f"tests/support/aws_calls.py cannot model it: {exc!r}"
            self.calls.append(Call(function, operation, (), environment, self.test, problem=problem))
            return
        self.calls.append(Call(function, operation, requests, environment, self.test))

    def drain(self) -> list[Call]:
        fresh, self.calls = self.calls, []
        return fresh


# --- from a call to the requests IAM authorises ------------------------------------------------------------


def requests_for(service: str, operation: str, params: Mapping[str, Any], region: str) -> Iterator[Request]:
    if service == "dynamodb":
        yield from _dynamodb(operation, params, region)
    elif service == "ses":
        yield from _ses(operation, params, region)
    elif service == "s3":
        yield from _s3(operation, params)
    elif service == "lambda" and operation in ("Invoke", "InvokeAsync"):
        yield Request("lambda:InvokeFunction", lambda_arn(str(params["FunctionName"]), region))
    else:
        yield Request(f"{service}:{operation}", "*")


def lambda_arn(name: str, region: str) -> str:
    return name if name.startswith("arn:") else f"arn:aws:lambda:{region}:{ACCOUNT}:function:{name}"


@cache
def _key_names() -> tuple[str, ...]:
    """The table's key attributes, partition key first."""
    schema = sam_template.table_definition()["KeySchema"]
    return tuple(part["AttributeName"] for part in sorted(schema, key=lambda part: part["KeyType"] != "HASH"))


def _table_arn(table: str, region: str) -> str:
    return f"arn:aws:dynamodb:{region}:{ACCOUNT}:table/{table}"


def _partition(key_or_item: Mapping[str, Any]) -> str:
    value = key_or_item[_key_names()[0]]
    return str(next(iter(value.values())))


_WORD = re.compile(r"#?[A-Za-z_][A-Za-z0-9_]*")
_UPDATE_WORDS = {"SET", "REMOVE", "ADD", "DELETE", "if_not_exists", "list_append"}


def _projection(expression: str | None, names: Mapping[str, str], attributes_to_get: Any = None) -> set[str] | None:
    """The top-level attribute names a read asks for; None when it asks for every attribute."""
    if attributes_to_get:
        return {str(name) for name in attributes_to_get}
    if not expression:
        return None
    found = set()
    for path in expression.split(","):
        head = re.split(r"[.\[]", path.strip(), maxsplit=1)[0]
        found.add(names.get(head, head))
    return found


def _update_attributes(params: Mapping[str, Any]) -> set[str]:
    names = params.get("ExpressionAttributeNames") or {}
    expression = str(params.get("UpdateExpression") or "")
    expression = re.sub(r":[A-Za-z0-9_]+", " ", expression)  # values are not attributes
    return {names.get(word, word) for word in _WORD.findall(expression) if word not in _UPDATE_WORDS}


def _read_context(partitions: set[str], projection: set[str] | None, select: str | None) -> dict[str, tuple[str, ...]]:
    """DynamoDB's keys for a read: the partitions, and (decision 0074) the attributes asked for with the table's
    key attributes (every read returns them), or Select ALL_ATTRIBUTES when it asks for every attribute."""
    context: dict[str, tuple[str, ...]] = {"dynamodb:LeadingKeys": tuple(sorted(partitions))}
    if projection is not None:
        context["dynamodb:Attributes"] = tuple(sorted(projection | set(_key_names())))
        context["dynamodb:Select"] = (select or "SPECIFIC_ATTRIBUTES",)
    else:
        context["dynamodb:Select"] = (select or "ALL_ATTRIBUTES",)
    return context


def _write_context(partition: str, attributes: set[str], return_values: str | None) -> dict[str, tuple[str, ...]]:
    return {
        "dynamodb:LeadingKeys": (partition,),
        "dynamodb:Attributes": tuple(sorted(attributes | set(_key_names()))),
        "dynamodb:ReturnValues": (return_values or "NONE",),
    }


def _item_request(kind: str, spec: Mapping[str, Any], region: str) -> Request:
    """GetItem, PutItem, UpdateItem, DeleteItem, ConditionCheckItem: alone, or as one item of a transaction."""
    arn = _table_arn(str(spec["TableName"]), region)
    names = spec.get("ExpressionAttributeNames") or {}
    if kind == "GetItem":
        projection = _projection(spec.get("ProjectionExpression"), names, spec.get("AttributesToGet"))
        return Request(f"dynamodb:{kind}", arn, _read_context({_partition(spec["Key"])}, projection, None))
    if kind == "PutItem":
        item = spec["Item"]
        return Request(f"dynamodb:{kind}", arn, _write_context(_partition(item), set(item), spec.get("ReturnValues")))
    attributes = _update_attributes(spec) if kind == "UpdateItem" else set()
    return Request(
        f"dynamodb:{kind}", arn, _write_context(_partition(spec["Key"]), attributes, spec.get("ReturnValues"))
    )


def _query_partition(params: Mapping[str, Any]) -> str:
    names = params.get("ExpressionAttributeNames") or {}
    values = params.get("ExpressionAttributeValues") or {}
    for name, value in re.findall(
        r"(#?[A-Za-z_][A-Za-z0-9_]*)\s*=\s*(:[A-Za-z0-9_]+)", params["KeyConditionExpression"]
    ):
        if names.get(name, name) == _key_names()[0]:
            return str(next(iter(values[value].values())))
    raise ValueError(f"no partition key equality in {params['KeyConditionExpression']!r}")


def _dynamodb(operation: str, params: Mapping[str, Any], region: str) -> Iterator[Request]:
    if operation in ("GetItem", "PutItem", "UpdateItem", "DeleteItem"):
        yield _item_request(operation, params, region)
    elif operation == "TransactWriteItems":
        kinds = {
            "Put": "PutItem",
            "Update": "UpdateItem",
            "Delete": "DeleteItem",
            "ConditionCheck": "ConditionCheckItem",
        }
        for entry in params["TransactItems"]:
            (kind, spec), *_ = entry.items()
            yield _item_request(kinds[kind], spec, region)
    elif operation == "TransactGetItems":
        for entry in params["TransactItems"]:
            yield _item_request("GetItem", entry["Get"], region)
    elif operation == "Query":
        names = params.get("ExpressionAttributeNames") or {}
        projection = _projection(params.get("ProjectionExpression"), names, params.get("AttributesToGet"))
        context = _read_context({_query_partition(params)}, projection, params.get("Select"))
        yield Request("dynamodb:Query", _table_arn(str(params["TableName"]), region), context)
    elif operation == "BatchGetItem":
        for table, spec in params["RequestItems"].items():
            names = spec.get("ExpressionAttributeNames") or {}
            projection = _projection(spec.get("ProjectionExpression"), names, spec.get("AttributesToGet"))
            partitions = {_partition(key) for key in spec["Keys"]}
            yield Request(
                "dynamodb:BatchGetItem", _table_arn(table, region), _read_context(partitions, projection, None)
            )
    elif operation == "BatchWriteItem":
        for table, writes in params["RequestItems"].items():
            partitions = {
                _partition(write["PutRequest"]["Item"] if "PutRequest" in write else write["DeleteRequest"]["Key"])
                for write in writes
            }
            context = {"dynamodb:LeadingKeys": tuple(sorted(partitions))}
            yield Request("dynamodb:BatchWriteItem", _table_arn(table, region), context)
    else:
        table = params.get("TableName")
        yield Request(f"dynamodb:{operation}", _table_arn(str(table), region) if table else "*")


def _identity_arn(identity: str, region: str) -> str:
    return f"arn:aws:ses:{region}:{ACCOUNT}:identity/{identity}"


def _identity_tags(identity: str, region: str) -> dict[str, str]:
    """The tags of an identity in moto's SES (which files them under `email-identity/`, AWS under `identity/`)."""
    from moto.ses.models import ses_backends

    tagger = ses_backends[ACCOUNT][region].tagger
    tags: dict[str, str] = {}
    for kind in ("email-identity", "identity"):
        tags.update(tagger.get_tag_dict_for_resource(f"arn:aws:ses:{region}:{ACCOUNT}:{kind}/{identity}"))
    return tags


def _sending_identity(address: str, region: str) -> str:
    """The identity SES authorises a send from `address` against: the address's own if verified, else its domain's."""
    from moto.ses.models import ses_backends

    if address in ses_backends[ACCOUNT][region].email_identities:
        return address
    return address.rpartition("@")[2]


def _tag_context(tags: Mapping[str, str]) -> dict[str, tuple[str, ...]]:
    return {f"aws:ResourceTag/{key}": (value,) for key, value in tags.items()}


def _ses(operation: str, params: Mapping[str, Any], region: str) -> Iterator[Request]:
    if operation in ("GetEmailIdentity", "DeleteEmailIdentity", "PutEmailIdentityMailFromAttributes"):
        identity = str(params["EmailIdentity"])
        yield Request(
            f"ses:{operation}", _identity_arn(identity, region), _tag_context(_identity_tags(identity, region))
        )
    elif operation == "CreateEmailIdentity":
        arn = _identity_arn(str(params["EmailIdentity"]), region)
        tags = {tag["Key"]: tag["Value"] for tag in params.get("Tags") or []}
        context = {f"aws:RequestTag/{key}": (value,) for key, value in tags.items()}
        context["aws:TagKeys"] = tuple(sorted(tags))
        yield Request("ses:CreateEmailIdentity", arn, context)
        if tags:  # tagging on create is also authorised as ses:TagResource
            yield Request("ses:TagResource", arn, context)
    elif operation == "SendEmail":
        sender = parseaddr(str(params.get("FromEmailAddress") or ""))[1]
        destination = params.get("Destination") or {}
        recipients = [address for _, address in getaddresses([str(a) for part in destination.values() for a in part])]
        context = {"ses:FromAddress": (sender,), "ses:Recipients": tuple(recipients), "ses:ApiVersion": ("2",)}
        identity = _sending_identity(sender, region)
        tags = _tag_context(_identity_tags(identity, region))
        yield Request("ses:SendEmail", _identity_arn(identity, region), {**context, **tags})
        if params.get("ConfigurationSetName"):
            arn = f"arn:aws:ses:{region}:{ACCOUNT}:configuration-set/{params['ConfigurationSetName']}"
            yield Request("ses:SendEmail", arn, context)
    else:
        yield Request(f"ses:{operation}", "*")


def _s3(operation: str, params: Mapping[str, Any]) -> Iterator[Request]:
    bucket = params.get("Bucket")
    if operation in ("GetObject", "HeadObject"):
        yield Request("s3:GetObject", f"arn:aws:s3:::{bucket}/{params['Key']}")
    elif operation in ("PutObject", "DeleteObject"):
        yield Request(f"s3:{operation}", f"arn:aws:s3:::{bucket}/{params['Key']}")
    elif operation == "CopyObject":  # AWS authorises a copy as reading the source and writing the copy
        source = params["CopySource"]
        if isinstance(source, str):
            source_bucket, _, source_key = source.lstrip("/").partition("/")
            source_key = unquote(source_key.partition("?versionId=")[0])
        else:
            source_bucket, source_key = source["Bucket"], source["Key"]
        yield Request("s3:GetObject", f"arn:aws:s3:::{source_bucket}/{source_key}")
        yield Request("s3:PutObject", f"arn:aws:s3:::{bucket}/{params['Key']}")
    elif operation == "DeleteObjects":  # AWS authorises it key by key, as s3:DeleteObject
        for listed in params["Delete"]["Objects"]:
            yield Request("s3:DeleteObject", f"arn:aws:s3:::{bucket}/{listed['Key']}")
    elif operation in ("ListObjects", "ListObjectsV2"):
        yield Request("s3:ListBucket", f"arn:aws:s3:::{bucket}", {"s3:prefix": (str(params.get("Prefix") or ""),)})
    else:
        yield Request(f"s3:{operation}", "*")
