"""Who may call the visa service: immigration decides; immigration, auditors and admins read."""

from typing import Annotated

from fastapi import Depends

from shared.web.auth import Principal, Role, require_roles

ImmigrationOfficer = Annotated[Principal, Depends(require_roles(Role.IMMIGRATION))]
Reader = Annotated[Principal, Depends(require_roles(Role.IMMIGRATION, Role.AUDITOR, Role.ADMIN))]
