"""The inspection service's REST routes (DOMAIN §5, §10), one router per resource: `inspections`
and `statistics`; `schemas` holds their request and response models, `auth` their roles."""
