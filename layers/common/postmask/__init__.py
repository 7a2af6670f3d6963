"""postmask's shared layer: schemas, the DynamoDB store, domain errors and the HTTP plumbing.

Every function imports from here; nothing here does work at import time (no env reads, no clients).
"""
