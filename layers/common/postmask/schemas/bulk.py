"""The models of POST /api/aliases/bulk: one action on many aliases, and each one's outcome."""

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from postmask.schemas.common import Model, RequestModel

AliasId = Annotated[str, StringConstraints(min_length=1, max_length=64)]


class BulkRequest(RequestModel):
    action: Literal["enable", "disable", "delete"] = Field(
        description="`enable` or `disable` (mail is forwarded or blocked), or `delete` (the address becomes free)"
    )
    ids: list[AliasId] = Field(
        min_length=1, max_length=100, description="1 to 100 alias ids; one given twice is acted on once"
    )


class BulkFailure(Model):
    id: str
    message: str = Field(description="Why not: `Alias not found` for an id that is not one of your aliases")


class BulkResult(Model):
    succeeded: list[str] = Field(description="The ids acted on (an alias already enabled counts as enabled)")
    failed: list[BulkFailure]
