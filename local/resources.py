"""The template's resources, made on whatever AWS endpoint boto3 is pointed at: the embedded moto server of
`make run` and `make sam-local`, or one you run yourself (`python -m local.resources --endpoint-url ...`).

`provision()` walks the resources a deployment would create. Each one gets a name (what `!Ref` gives) and
the attributes functions may `!GetAtt`; each of a type listed in PROVISIONERS is also created.
Extending it:
- a new kind of template resource (a queue, say): add it to PROVISIONERS, a function
  `(logical_id, resource, local) -> None` like `_create_table` or `_create_bucket`;
- something that is not a template resource (SES identities): one more step at the end of `provision()`.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from local import sam_template
from local.sam_template import FunctionSpec, Resolver, UnresolvableError

STACK_NAME = "postmask-local"
DEV_ADMIN_EMAIL = "admin@example.com"


def physical_name(logical_id: str, stack_name: str = STACK_NAME) -> str:
    """The local name of a resource: `postmask-local-table`. Lower case, so valid for every service (S3)."""
    return f"{stack_name}-{logical_id}".lower()


def _references(resource_type: str, name: str, region: str, account: str) -> tuple[str, dict[str, str]]:
    """What `!Ref` and `!GetAtt` give for a resource of this type called `name`, as CloudFormation does."""
    arn = f"arn:aws:{{}}:{region}:{account}:{{}}"
    if resource_type == "AWS::DynamoDB::Table":
        return name, {"Arn": arn.format("dynamodb", f"table/{name}")}
    if resource_type in ("AWS::Serverless::Function", "AWS::Lambda::Function"):
        return name, {"Arn": arn.format("lambda", f"function:{name}")}
    if resource_type == "AWS::S3::Bucket":
        return name, {"Arn": f"arn:aws:s3:::{name}", "DomainName": f"{name}.s3.amazonaws.com"}
    if resource_type == "AWS::SQS::Queue":
        url = f"https://sqs.{region}.amazonaws.com/{account}/{name}"
        return url, {"Arn": arn.format("sqs", name), "QueueName": name, "QueueUrl": url}
    if resource_type == "AWS::SNS::Topic":
        topic_arn = arn.format("sns", name)
        return topic_arn, {"TopicArn": topic_arn, "TopicName": name}
    if resource_type in ("AWS::Serverless::LayerVersion", "AWS::Lambda::LayerVersion"):
        return arn.format("lambda", f"layer:{name}:1"), {}
    return name, {}


def _function_alias(template: dict[str, Any], logical_id: str) -> str | None:
    if template["Resources"][logical_id].get("Type") != "AWS::Serverless::Function":
        return None
    alias = sam_template.function_properties(template, logical_id).get("AutoPublishAlias")
    return alias if isinstance(alias, str) else None


@dataclass
class LocalResources:
    """The resources of one local deployment: their names and attributes, and what was created."""

    resolver: Resolver
    created: list[str] = field(default_factory=list)  # logical ids, in creation order

    def name(self, logical_id: str) -> str:
        """What `!Ref <logical_id>` gives locally."""
        return self.resolver.refs[logical_id]

    def function_environment(self, spec: FunctionSpec) -> dict[str, str]:
        """Globals plus the function's own `Environment`, resolved: `!Ref Table` is the local table's name."""
        resolved = self.resolver.resolve(dict(spec.environment))
        environment = {}
        for key, value in resolved.items():
            if isinstance(value, dict | list):
                raise UnresolvableError(f"{spec.logical_id}: environment variable {key} is not a string: {value!r}")
            # Lambda's variables are strings; CloudFormation writes YAML booleans in lower case.
            environment[key] = str(value).lower() if isinstance(value, bool) else str(value)
        return environment


Provisioner = Callable[[str, dict[str, Any], LocalResources], None]


def _create_table(logical_id: str, resource: dict[str, Any], local: LocalResources) -> None:
    import boto3

    client = boto3.client("dynamodb")
    definition = local.resolver.resolve(sam_template.table_definition(local.resolver.template, logical_id))
    try:
        client.create_table(TableName=local.name(logical_id), **definition)
    except client.exceptions.ResourceInUseException:
        return  # kept from an earlier run (DynamoDB Local): its key schema comes from the same template
    client.get_waiter("table_exists").wait(
        TableName=local.name(logical_id), WaiterConfig={"Delay": 1, "MaxAttempts": 30}
    )


def create_bucket(name: str) -> None:
    """An S3 bucket in this process's region; one that exists already is kept."""
    import boto3

    s3: Any = boto3.client("s3")
    region = s3.meta.region_name
    location = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
    try:
        s3.create_bucket(Bucket=name, **location)
    except s3.exceptions.BucketAlreadyOwnedByYou:
        return


def _create_bucket(logical_id: str, resource: dict[str, Any], local: LocalResources) -> None:
    create_bucket(local.name(logical_id))


def _create_configuration_set(logical_id: str, resource: dict[str, Any], local: LocalResources) -> None:
    """The configuration set every send names (CONFIGURATION_SET): in SES, a send naming one that does not exist
    fails. Its event destination (EventBridge) is not made: local bounces reach the feedback function directly."""
    import boto3
    from botocore.exceptions import ClientError

    try:
        boto3.client("sesv2").create_configuration_set(ConfigurationSetName=local.name(logical_id))
    except ClientError as error:  # SESv2 says AlreadyExistsException; moto, SES v1's name for it
        if error.response["Error"]["Code"] not in ("AlreadyExistsException", "ConfigurationSetAlreadyExistsException"):
            raise


PROVISIONERS: dict[str, Provisioner] = {
    "AWS::DynamoDB::Table": _create_table,
    "AWS::S3::Bucket": _create_bucket,
    "AWS::SES::ConfigurationSet": _create_configuration_set,
}


def provision(
    template: dict[str, Any] | None = None,
    *,
    parameters: Mapping[str, str] | None = None,
    region: str | None = None,
    stack_name: str = STACK_NAME,
) -> LocalResources:
    """Name every resource a deployment with `parameters` creates, and create those PROVISIONERS know."""
    template = template or sam_template.load()
    region = region or os.environ.get("AWS_DEFAULT_REGION") or sam_template.DEFAULT_PSEUDO_PARAMETERS["AWS::Region"]
    resolver = Resolver(
        template, parameters=parameters, pseudo_parameters={"AWS::Region": region, "AWS::StackName": stack_name}
    )
    account = resolver.pseudo_parameters["AWS::AccountId"]
    existing = [logical_id for logical_id in template["Resources"] if resolver.exists(logical_id)]
    # Every name first: a resource may refer to another one that comes later in the template.
    for logical_id in existing:
        resource_type = template["Resources"][logical_id]["Type"]
        ref, attributes = _references(resource_type, physical_name(logical_id, stack_name), region, account)
        resolver.refs[logical_id] = ref
        resolver.attributes.update({(logical_id, attribute): value for attribute, value in attributes.items()})
        alias = _function_alias(template, logical_id)
        if alias:  # `!Ref <Function>.Alias`: the ARN of the alias SAM's AutoPublishAlias makes
            resolver.refs[f"{logical_id}.Alias"] = f"{attributes['Arn']}:{alias}"
    local = LocalResources(resolver)
    for logical_id in existing:
        resource = template["Resources"][logical_id]
        provisioner = PROVISIONERS.get(resource["Type"])
        if provisioner is not None:
            provisioner(logical_id, resource, local)
            local.created.append(logical_id)
    return local


def create_admin(table_name: str, token: str | None, email: str = DEV_ADMIN_EMAIL) -> str | None:
    """The admin dev user, with `token` as their token (a random one when None). Returns the token, or None
    when a user with this e-mail address already exists (DynamoDB Local kept from an earlier run)."""
    os.environ["TABLE_NAME"] = table_name
    from postmask.errors import EmailTaken
    from postmask.settings import get_settings
    from postmask.store import users

    get_settings.cache_clear()
    try:
        return users.create(email, is_admin=True, token_name="dev token", token_secret=token).token  # noqa: S106
    except EmailTaken:
        return None


def main(argv: list[str] | None = None) -> int:
    """Prepare an AWS endpoint you run yourself (a moto server): the template's resources and the
    admin dev user. Safe to run again. (`make sam-local` starts and prepares its own.)"""
    parser = argparse.ArgumentParser(prog="python -m local.resources", description=main.__doc__)
    parser.add_argument("--endpoint-url", required=True, help="e.g. http://127.0.0.1:5000 (a moto server)")
    parser.add_argument("--region", default=os.environ.get("AWS_DEFAULT_REGION", "eu-west-1"))
    parser.add_argument("--admin-email", default=DEV_ADMIN_EMAIL)
    args = parser.parse_args(argv)
    # DynamoDB Local takes any credentials; these keep real ones (and ~/.aws) out of it.
    os.environ.update(
        {
            "AWS_ENDPOINT_URL": args.endpoint_url,
            "AWS_DEFAULT_REGION": args.region,
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        }
    )
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
        os.environ.pop(name, None)
    local = provision(region=args.region)
    table = local.name("Table")
    print(f"table {table} ready at {args.endpoint_url}")
    token = create_admin(table, os.environ.get("POSTMASK_DEV_TOKEN") or None, args.admin_email)
    if token is None:
        print(f"admin {args.admin_email} already exists; their token is unchanged")
    else:
        print(f"admin {args.admin_email}, token: {token}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
