"""The API's request and response models (pydantic v2): what the contract says, in code.

Request models forbid unknown fields, so a typo in a field name is a 422, not a silently ignored value.
Response models are what handlers return; Powertools builds the OpenAPI document from both.

One module per resource, and nothing imported here: making a model class costs about a millisecond of a
cold start, so a function imports only the models of its own resource (and `common`'s).
"""
