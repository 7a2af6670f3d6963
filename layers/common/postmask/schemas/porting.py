"""The models of GET /api/export and POST /api/import (what their documents hold; postmask.porting writes and
reads the files themselves)."""

from typing import Literal

from pydantic import Field

from postmask.schemas.common import Model, Timestamp
from postmask.schemas.destinations import DestinationStatus


class ExportedDomain(Model):
    name: str
    catch_all_destination: str | None
    created_at: Timestamp


class ExportedDestination(Model):
    email: str
    status: DestinationStatus
    created_at: Timestamp
    verified_at: Timestamp | None


class ExportedContact(Model):
    email: str
    name: str | None
    blocked: bool
    created_at: Timestamp
    reply_address: str | None = Field(
        default=None,
        description="Its reply address: an import into the same account gives it back, so replies keep working",
    )


class ExportedAlias(Model):
    address: str
    destinations: list[str]
    note: str
    enabled: bool
    expires_at: Timestamp | None
    created_at: Timestamp
    display_name: str | None = None
    site: str | None = None
    block_foreign_senders: bool = False
    contacts: list[ExportedContact] = Field(
        description="The alias's contacts, oldest first (an import adds those it lacks, each with its reply address "
        "when that is still free for this alias, else a new one)"
    )


class ExportDocument(Model):
    format: Literal["postmask/1"]
    exported_at: Timestamp
    domains: list[ExportedDomain] = Field(description="Your domains: an import needs them registered first")
    destinations: list[ExportedDestination]
    aliases: list[ExportedAlias] = Field(description="Oldest first")


class ImportProblem(Model):
    row: int | None = Field(
        description="The row: in a CSV as a spreadsheet numbers it (the header is row 1); in a postmask export the "
        "alias's place in `aliases` (1 is the first); null for something that is not an alias"
    )
    message: str


class ImportResult(Model):
    created: int = Field(ge=0, description="Aliases created (in a dry run: that would be created)")
    skipped: int = Field(ge=0, description="Aliases you have already (an import is idempotent)")
    errors: list[ImportProblem] = Field(description="Rows not imported, and why")
    dry_run: bool
    format: Literal["postmask", "simplelogin", "addy-import", "addy-export"] = Field(
        description="The format the file was read as (from a CSV's header)"
    )
    new_destinations: list[str] = Field(
        description="Destinations you did not have: created pending, each mailed a verification link"
    )
