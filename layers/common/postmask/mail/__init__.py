"""Mail: the forward and reply paths, as five stages run in order by `postmask.mail.forwarder.handle` (the
forwarder's Lambda handler calls it): arrival, decisions, copies (the copy and its transforms), delivery, record
(docs/decisions/0024: the stage map). Beneath them: headers, header_fields, lines, message, reply, scrub, inbox;
imports run one way (tests/unit/test_mail_imports.py). Every DynamoDB access goes through `postmask.store`.
"""
