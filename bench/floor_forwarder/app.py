"""The forwarder's floor: the least a Python function can do to forward mail the way postmask does.

boto3 and no framework: per recipient one `GetItem` of its route, the stored message read from S3 once, one
SESv2 `SendEmail` of the raw bytes per destination, one `UpdateItem` of the alias's count. Nothing rewritten,
nothing deduplicated: only the calls no forwarder can do without.
"""

import os

import boto3

dynamodb = boto3.client("dynamodb")
s3 = boto3.client("s3")
sesv2 = boto3.client("sesv2")


def lambda_handler(event, context):
    table = os.environ["TABLE_NAME"]
    sent = 0
    for record in event["Records"]:
        mail = record["ses"]["mail"]
        message = None
        for recipient in record["ses"]["receipt"]["recipients"]:
            key = {"pk": {"S": f"ADDRESS#{recipient.lower()}"}, "sk": {"S": "ADDRESS"}}
            route = dynamodb.get_item(TableName=table, Key=key).get("Item")
            if route is None:
                continue
            if message is None:
                stored = s3.get_object(
                    Bucket=os.environ["MAIL_BUCKET"], Key=os.environ["MAIL_PREFIX"] + mail["messageId"]
                )
                message = stored["Body"].read()
            for destination in route["destinations"]["L"]:
                sesv2.send_email(
                    FromEmailAddress=recipient,
                    Destination={"ToAddresses": [destination["S"]]},
                    Content={"Raw": {"Data": message}},
                )
                sent += 1
            dynamodb.update_item(
                TableName=table,
                Key={"pk": {"S": f"USER#{route['owner_id']['S']}"}, "sk": {"S": f"ALIAS#{route['alias_id']['S']}"}},
                UpdateExpression="ADD forwarded_count :one",
                ExpressionAttributeValues={":one": {"N": "1"}},
            )
    return {"sent": sent}
