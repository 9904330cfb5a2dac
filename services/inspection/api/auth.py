"""Who may call the inspection service's routes (docs/security.md): OTIT officers record inspections;
they, auditors and admins read them. No organization files or reads here."""

from typing import Annotated

from fastapi import Depends

from shared.web.auth import Principal, Role, require_roles

# Who files here: OTIT only. Unlike the other services' officer routes, an admin may read inspections
# but not record them (docs/security.md), so this is not `OtitOfficer` (OTIT and admin).
Filer = Annotated[Principal, Depends(require_roles(Role.OTIT))]
Reader = Annotated[Principal, Depends(require_roles(Role.OTIT, Role.AUDITOR, Role.ADMIN))]
