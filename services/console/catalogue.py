"""The records an officer works with: which service keeps each, and what its list shows.

Filters and decisions are not listed here: they come from the service's OpenAPI document (forms.py).
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Resource:
    path: str  # as in the REST contract: /v1/<path>
    service: str
    columns: tuple[str, ...]
    title: str = "name"  # the field a record is called by; "a+b": both, joined

    def __str__(self) -> str:
        return self.path


RESOURCES = {
    r.path: r
    for r in (
        Resource(
            "supervising-organizations",
            "registry",
            ("name", "prefecture", "status", "permit_type", "applied_on", "expires_on"),
        ),
        Resource(
            "supervision-support-organizations",
            "registry",
            ("name", "prefecture", "status", "applied_on", "expires_on"),
        ),
        Resource(
            "implementing-organizations",
            "registry",
            ("name", "prefecture", "industry", "training_type", "full_time_staff", "registered_on"),
        ),
        Resource("sending-organizations", "registry", ("name", "country", "status", "approved_on")),
        Resource(
            "training-plans",
            "accreditation",
            ("trainee", "scheme", "stage", "job_category", "status", "start_date", "end_date"),
            title="trainee",
        ),
        Resource(
            "inspections",
            "inspection",
            ("target_type", "kind", "reason", "status", "due_by", "inspected_on"),
            title="target_type+due_by",
        ),
        Resource(
            "filings",
            "inspection",
            ("kind", "scheme", "due_on", "filed_on", "status", "late_days"),
            title="kind+due_on",
        ),
        Resource(
            "consultations",
            "inspection",
            ("subject", "language", "channel", "status", "received_on", "closed_on"),
            title="subject+received_on",
        ),
        Resource(
            "coe-applications",
            "visa",
            ("trainee_id", "scheme", "stage", "status", "applied_on", "issued_on"),
            title="trainee_id",
        ),
        Resource("visas", "visa", ("trainee_id", "post", "issued_on", "stage", "scheme"), title="trainee_id"),
        Resource(
            "status-changes",
            "visa",
            ("trainee_id", "kind", "from_stage", "to_stage", "decided_on", "scheme"),
            title="trainee_id",
        ),
    )
}

# What a role sees in the menu (the services decide what it may read; this only keeps the menu short).
MENU = {
    "otit": (
        "supervising-organizations",
        "supervision-support-organizations",
        "implementing-organizations",
        "sending-organizations",
        "training-plans",
        "inspections",
        "filings",
        "consultations",
    ),
    "immigration": ("coe-applications", "visas", "status-changes"),
    "auditor": tuple(RESOURCES),
    "admin": tuple(RESOURCES),
}


def menu_for(roles: set[str]) -> list[Resource]:
    seen: dict[str, Resource] = {}
    for role in sorted(roles):
        for path in MENU.get(role, ()):
            seen.setdefault(path, RESOURCES[path])
    return [r for r in RESOURCES.values() if r.path in seen]


def title_of(resource: Resource, record: dict[str, object]) -> str:
    parts = []
    for name in resource.title.split("+"):
        value = record.get(name)
        if isinstance(value, dict):  # a plan's trainee: {name, nationality, ...}
            value = value.get("name") or value.get("id")
        if value:
            parts.append(str(value).replace("_", " "))
    return " · ".join(parts) or str(record.get("id", ""))


# A field holding another record's id, and where that record's page is.
LINKS = {
    "supervising_organization_id": "supervising-organizations",
    "supervision_support_organization_id": "supervision-support-organizations",
    "implementing_organization_id": "implementing-organizations",
    "sending_organization_id": "sending-organizations",
    "training_plan_id": "training-plans",
    "transfer_from": "training-plans",
    "coe_id": "coe-applications",
    "visa_id": "visas",
}


def record_link(field: str, value: object, record: dict[str, object]) -> str | None:
    """The console's page of the record `value` names, if `field` names one."""
    if not isinstance(value, str) or not value:
        return None
    resource = LINKS.get(field)
    if field == "target_id" and isinstance(record.get("target_type"), str):
        resource = f"{str(record['target_type']).replace('_', '-')}s"
    return f"/records/{resource}/{value}" if resource in RESOURCES else None
