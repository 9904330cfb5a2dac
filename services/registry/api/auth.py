"""Who may call the registry's routes: its role dependencies (the same names mean the same in every service).

Whose records an organization may see is `Principal.may_see` / `Principal.only_organization`.
"""

from typing import Annotated
from uuid import UUID

from fastapi import Depends

from shared.web.auth import Principal, Role, require_roles
from shared.web.problems import Forbidden

# Officers of OTIT (and admins) decide: permits, registrations, approvals, agreements.
OtitOfficer = Annotated[Principal, Depends(require_roles(Role.OTIT, Role.ADMIN))]
# Who may file here: the officers, and a supervising organization for itself (its permit application, TITP or
# ESD, and as a supervision support organization its quarterly audit reports).
Filer = Annotated[Principal, Depends(require_roles(Role.OTIT, Role.SUPERVISING_ORG, Role.ADMIN))]
# Who reads supervising organizations, sending organizations and agreements: the filers and auditors.
Reader = Annotated[Principal, Depends(require_roles(Role.OTIT, Role.SUPERVISING_ORG, Role.AUDITOR, Role.ADMIN))]
# Implementing organizations are read by an implementing organization too (its own record).
ImplementingReader = Annotated[
    Principal, Depends(require_roles(Role.OTIT, Role.SUPERVISING_ORG, Role.IMPLEMENTING_ORG, Role.AUDITOR, Role.ADMIN))
]
# Program statistics: officers and auditors, no organization.
StatisticsReader = Annotated[Principal, Depends(require_roles(Role.OTIT, Role.AUDITOR, Role.ADMIN))]


def own_organization_id(principal: Principal) -> UUID:
    """The organization an organization member's token names: an organization applies for a permit under it."""
    try:
        return UUID(principal.organization_id)
    except (TypeError, ValueError):
        raise Forbidden("the token's organization (org) is not an organization's id") from None
