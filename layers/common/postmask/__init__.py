"""postmask's shared layer: schemas, the DynamoDB store, domain errors and the HTTP plumbing.

Every function imports from here; nothing here does work at import time (no env reads, no clients), except
registering two Powertools packages without their catch-all `__init__` files (postmask.lean_imports).
"""

from postmask import lean_imports

lean_imports.install()
