"""The registry's REST routes (DOMAIN §10), one router per resource."""

from services.registry.api.supervising_organizations import router as supervising_organizations

routers = [supervising_organizations]
