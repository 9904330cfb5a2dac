"""The accreditation service's REST routes (DOMAIN §10), one router per resource."""

from services.accreditation.api.early_returns import router as early_returns
from services.accreditation.api.esd import router as esd
from services.accreditation.api.exam_results import router as exam_results
from services.accreditation.api.fees import router as fees
from services.accreditation.api.filings import router as filings
from services.accreditation.api.implementing_organizations import router as implementing_organizations
from services.accreditation.api.plan_changes import router as plan_changes
from services.accreditation.api.statistics import router as statistics
from services.accreditation.api.trainees import router as trainees
from services.accreditation.api.training_plans import router as training_plans

routers = [training_plans, trainees, exam_results, implementing_organizations, esd, statistics]
routers.append(early_returns)  # issue 25
routers.append(plan_changes)
routers.append(filings)
routers.append(fees)
