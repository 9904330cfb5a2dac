"""Who may call the accreditation service's routes (the same names mean the same in every service)."""

from typing import Annotated

from fastapi import Depends

from shared.web.auth import Principal, Role, require_roles

OtitOfficer = Annotated[Principal, Depends(require_roles(Role.OTIT, Role.ADMIN))]
ExamRecorder = Annotated[Principal, Depends(require_roles(Role.EXAM_BODY, Role.OTIT, Role.ADMIN))]
# Those who file a plan and its notices: OTIT and the organizations (each for its own plans).
Filer = Annotated[Principal, Depends(require_roles(Role.OTIT, Role.SUPERVISING_ORG, Role.IMPLEMENTING_ORG, Role.ADMIN))]
Reader = Annotated[
    Principal, Depends(require_roles(Role.OTIT, Role.SUPERVISING_ORG, Role.IMPLEMENTING_ORG, Role.AUDITOR, Role.ADMIN))
]
# The agency's own (its worklists, the program's statistics): OTIT and auditors, not the organizations.
AgencyReader = Annotated[Principal, Depends(require_roles(Role.OTIT, Role.AUDITOR, Role.ADMIN))]
StatisticsReader = AgencyReader
# A supervising organization's monthly visit records (issue 20): the organization itself, or OTIT.
VisitRecorder = Annotated[Principal, Depends(require_roles(Role.OTIT, Role.SUPERVISING_ORG, Role.ADMIN))]
# What a trainee paid before coming (issue 25): the plan's supervising organization (its own plans), or OTIT.
FeeDeclarer = Annotated[Principal, Depends(require_roles(Role.OTIT, Role.SUPERVISING_ORG, Role.ADMIN))]
