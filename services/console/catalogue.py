"""The records an officer works with: which service keeps each, and what its list shows.

Filters and decisions are not listed here: they come from the service's OpenAPI document (forms.py).
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Resource:
    path: str  # as in the REST contract: /v1/<path>
    service: str
    columns: tuple[str, ...]
    title: str = "name"  # the field a record is called by

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
            title="target_type",
        ),
        Resource(
            "filings", "inspection", ("kind", "scheme", "due_on", "filed_on", "status", "late_days"), title="kind"
        ),
        Resource(
            "coe-applications",
            "visa",
            ("trainee_id", "scheme", "stage", "status", "applied_on", "issued_on"),
            title="trainee_id",
        ),
        Resource("visas", "visa", ("trainee_id", "post", "issued_on", "stage", "scheme"), title="trainee_id"),
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
    ),
    "immigration": ("coe-applications", "visas", "training-plans"),
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
    value = record.get(resource.title)
    if isinstance(value, dict):  # a plan's trainee: {name, nationality, ...}
        value = value.get("name") or value.get("id")
    return str(value or record.get("id", ""))
