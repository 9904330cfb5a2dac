"""The visa service's REST routes (DOMAIN §10), one router per resource."""

from services.visa.api.coe_applications import router as coe_applications
from services.visa.api.evaluation_reports import router as evaluation_reports
from services.visa.api.status_changes import router as status_changes
from services.visa.api.trainees import router as trainees
from services.visa.api.visas import router as visas

routers = [coe_applications, visas, status_changes, trainees, evaluation_reports]
