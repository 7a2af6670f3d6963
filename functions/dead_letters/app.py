"""The forwarder's dead-letter queue (SQS) -> quarantine what its retries could not send (postmask.dead_letters)."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from postmask import dead_letters
from postmask.observability import logger, metrics, tracer


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return dead_letters.handle(event)
