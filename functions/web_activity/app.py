"""GET /activity: what happened to your mail, all aliases or one, filtered by outcome. A page shell: its data
comes from /api."""

import os

from postmask_web.pages import page

# The intro says how far back the list goes: as long as activity is kept (the ActivityRetentionDays parameter).
lambda_handler = page("activity.html", retention_days=int(os.environ.get("ACTIVITY_RETENTION_DAYS") or "30"))
