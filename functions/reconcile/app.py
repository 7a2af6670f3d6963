"""Daily (EventBridge schedule): is every message stored yesterday forwarded, refused or quarantined?"""

from datetime import date
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from postmask import reconcile
from postmask.observability import logger, metrics, tracer


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    day = event.get("day")  # a day to reconcile again by hand: {"day": "YYYY-MM-DD"}; the schedule sends none
    return reconcile.run(date.fromisoformat(day) if isinstance(day, str) else None).as_dict()
