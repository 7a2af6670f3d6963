"""Mail forwarding: the raw message (header block + untouched body), the rewrite, the SES send, the decisions.

The forwarder's Lambda handler calls `postmask.mail.forwarder.handle`; everything it needs from DynamoDB goes
through `postmask.store.routes` and `postmask.store.deliveries`.
"""
