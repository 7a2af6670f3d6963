"""The sign-in mailer: invoked asynchronously by POST /api/sessions with `{"email", "api_host"}`; mails a
sign-in link if the address is an account's, and does nothing otherwise (postmask.signin says why)."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from postmask import signin
from postmask.observability import logger, metrics, tracer


@logger.inject_lambda_context(clear_state=True)  # never the event: it holds an address
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> None:
    signin.mail_link(event)
