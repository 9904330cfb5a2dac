"""The registry's REST routes (DOMAIN §10), one router per resource."""

from services.registry.api.disclosure import router as disclosure
from services.registry.api.implementing_organizations import router as implementing_organizations
from services.registry.api.sending_agreements import router as sending_agreements
from services.registry.api.sending_organizations import router as sending_organizations
from services.registry.api.statistics import router as statistics
from services.registry.api.supervising_organizations import router as supervising_organizations
from services.registry.api.supervision_support_organizations import router as supervision_support_organizations

routers = [
    supervising_organizations,
    supervision_support_organizations,
    implementing_organizations,
    sending_organizations,
    sending_agreements,
    disclosure,
    statistics,
]
