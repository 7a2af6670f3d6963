"""The floor: the least a Python Lambda function can do to make the same AWS calls as a postmask function.

A hand-written handler with no framework: boto3, `json`, a client per service (made on first use), the
calls, `json.dumps` of what they returned. The benchmark records the calls a postmask function makes for a
request (bench/calls.py) and hands them to this handler in its event, so the floor makes exactly those
calls, on the same server.
"""

import json

import boto3
from botocore.exceptions import ClientError

clients: dict[str, object] = {}


def lambda_handler(event, context):
    results = []
    for call in event["calls"]:
        if call["service"] not in clients:
            clients[call["service"]] = boto3.client(call["service"])
        try:
            response = getattr(clients[call["service"]], call["method"])(**call["params"])
        except ClientError as error:
            # A write to a service other than DynamoDB was made by the dry run already (an SES identity
            # created): the same request, answered with an error, is the same round trip.
            if call["service"] == "dynamodb":
                raise
            response = error.response
        response.pop("ResponseMetadata", None)
        results.append(response)
    body = json.dumps(results, default=str)
    return {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": body}
