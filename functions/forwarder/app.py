"""SES receipt rule (store to S3, then invoke this): forward, block or drop each recipient's copy."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from postmask.mail import forwarder
from postmask.observability import logger, metrics, tracer


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return forwarder.handle(event, remaining_seconds=context.get_remaining_time_in_millis() / 1000)
