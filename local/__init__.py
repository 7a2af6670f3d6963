"""The no-Docker local stack: template.yaml read as API Gateway would, embedded moto, SMTP ingress.

`python -m local` (what `make run` runs) starts it; see local/__main__.py.
"""

import sys
from pathlib import Path

# The stack itself uses the shared layer (the dev user, the SMTP ingress, the outbox), as a deployed function
# finds it in /opt/python; functions get it in their own workers, this is for the host process.
_COMMON_LAYER = str(Path(__file__).resolve().parent.parent / "layers" / "common")
if _COMMON_LAYER not in sys.path:
    sys.path.append(_COMMON_LAYER)
