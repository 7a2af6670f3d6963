"""The floor: the least a Python Lambda function can do to make the same AWS calls as a postmask function.

A hand-written handler with no framework: boto3, `json`, a client per service (made on first use), the
calls, `json.dumps` of what they returned. The benchmark records the calls a postmask function makes for a
request (bench/calls.py) and hands them to this handler in its event, so the floor makes exactly those
calls, on the same server.
"""

import json

import boto3

clients: dict[str, object] = {}


def lambda_handler(event, context):
    results = []
    for call in event["calls"]:
        if call["service"] not in clients:
            clients[call["service"]] = boto3.client(call["service"])
        response = getattr(clients[call["service"]], call["method"])(**call["params"])
        response.pop("ResponseMetadata", None)
        results.append(response)
    return {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": json.dumps(results)}
