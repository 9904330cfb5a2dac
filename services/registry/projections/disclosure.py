"""The public disclosure of administrative actions (DOMAIN §2, Art. 37(4) of the Act), written in the same transaction
as their events: on supervising organizations' TITP permits and on supervision support organizations' ESD permits
(DOMAIN §9), each row naming its `scheme`; and, from accreditation's events, the improvement orders on implementing
organizations (Art. 15) and the revocations of their training plans' certification (Art. 16), published like them
(DOMAIN §11) with the implementing organization's name, corporate number and prefecture from the registry's own
records, and nothing of the trainees (no plan id, no trainee, no reason).

What is published, and why nothing else (docs/disclosure-and-statistics.md): the organization's
name, corporate number and prefecture (a supervising organization is a legal person, registered
under that number), the action, its date, the provision it was taken under, its ground, and for
a suspension its period and scope, for an improvement order its deadline. Never the reasons
officers write (free text may name trainees, staff or managers), the part of the business a
partial suspension names, addresses, the representative, supervision managers or the auditor.
"""

from datetime import date
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

import asyncpg

from contracts.registry import RevocationGround, Scheme
from services.registry.domain.identity import prefecture_code
from services.registry.domain.supervising_organization import SupervisingOrganization
from services.registry.domain.supervision_support_organization import SupervisionSupportOrganization
from services.registry.projections.prefectures import prefecture_forms

Organization = SupervisingOrganization | SupervisionSupportOrganization

# Art. 37(1) of the Technical Intern Training Act: item and ground. The ESD permit's rows cite the same
# provisions: the amendment keeps supervision under the same articles of the renamed Act (to be checked
# against its final numbering; this table is the one place to change).
REVOCATION_GROUNDS = {
    RevocationGround.STANDARDS_NOT_MET: ("Art. 37(1)(i)", "the permit standards are no longer met"),
    RevocationGround.DISQUALIFIED: ("Art. 37(1)(ii)", "a ground of disqualification applies"),
    RevocationGround.CONDITION_BREACHED: ("Art. 37(1)(iii)", "a condition of the permit was breached"),
    RevocationGround.LAW_BREACHED: (
        "Art. 37(1)(iv)",
        "the Act, immigration or labour law, or an order under them, was breached",
    ),
    RevocationGround.WRONGFUL_ACT: ("Art. 37(1)(v)", "a wrongful or grossly unjust act in the business"),
}
SUSPENSION = ("Art. 37(3)", "order to suspend all or part of the business")
IMPROVEMENT_ORDER = ("Art. 36", "order to take measures to improve the business")
DOWNGRADE = (
    "Art. 37(2)",
    "the standards of excellence a general permit requires are no longer met: downgraded to a specified permit",
)
# Published from accreditation's decisions on implementing organizations (DOMAIN §11).
EMPLOYER_IMPROVEMENT_ORDER = ("Art. 15", "order to the implementing organization to take measures to improve")
PLAN_REVOCATION = ("Art. 16(1)", "the certification of the implementing organization's training plan was revoked")
ORGANIZATION_TYPES = ("supervising_organization", "supervision_support_organization", "implementing_organization")

_ACTION_IDS = uuid5(NAMESPACE_URL, "https://titp.example/disclosed-actions")


def _action_id(organization_id: str, action: str) -> UUID:
    """An organization has at most one revocation and one downgrade: their ids derive from its own."""
    return uuid5(_ACTION_IDS, f"{organization_id}/{action}")


def disclosed_actions(id: str, state: Organization) -> list[dict[str, Any]]:
    """Every action on the organization's permit that is public, as published."""
    application = state.application
    assert application is not None, "an organization that never applied"
    esd = isinstance(state, SupervisionSupportOrganization)
    organization = {
        "supervising_organization_id": UUID(id),
        "organization_id": UUID(id),
        "organization_type": "supervision_support_organization" if esd else "supervising_organization",
        "name": application.name,
        "corporate_number": application.corporate_number,
        "prefecture": application.prefecture,
        "scheme": (Scheme.ESD if esd else Scheme.TITP).value,
    }

    def action(
        action_id: UUID, kind: str, on: date, provision: tuple[str | None, str], **details: Any
    ) -> dict[str, Any]:
        legal_basis, ground = provision
        return {
            "id": action_id,
            **organization,
            "action": kind,
            "action_date": on,
            "legal_basis": legal_basis,
            "ground": ground,
            "until_date": None,
            "scope": None,
            "deadline": None,
            **details,
        }

    actions = [
        action(o.order_id, "improvement_order", o.issued_on, IMPROVEMENT_ORDER, deadline=o.deadline)
        for o in state.improvement_orders
    ]
    actions += [
        action(
            s.suspension_id,
            "suspension",
            s.from_date,
            _suspension(s.ground),
            until_date=s.until_date,
            scope=s.scope,
        )
        for s in state.suspensions
    ]
    if isinstance(state, SupervisingOrganization) and state.downgraded_on:
        basis = (state.downgrade_legal_basis or DOWNGRADE[0], DOWNGRADE[1])
        actions.append(action(_action_id(id, "downgrade"), "downgrade", state.downgraded_on, basis))
    if state.revocation:
        actions.append(
            action(
                _action_id(id, "revocation"),
                "revocation",
                state.revocation.revoked_on,
                REVOCATION_GROUNDS[state.revocation.ground],
            )
        )
    return actions


def _suspension(ground: RevocationGround | None) -> tuple[str | None, str]:
    """A suspension's provision, with the Art. 37(1) item it rests on when recorded (since issue 19)."""
    if ground is None:
        return SUSPENSION
    item, why = REVOCATION_GROUNDS[ground]
    return SUSPENSION[0], f"{SUSPENSION[1]}: {why} ({item})"


async def publish_employer_action(
    conn: asyncpg.Connection,
    *,
    implementing_organization_id: UUID,
    action: str,
    action_date: date,
    action_id: UUID,
    scheme: Scheme = Scheme.TITP,
    deadline: date | None = None,
) -> bool:
    """Publish an Art. 15 order (`employer_improvement_order`) or an Art. 16 revocation (`plan_revocation`) on an
    implementing organization, named as the registry records it; False (nothing published) when the registry does
    not know the organization. An action once published never changes."""
    organization = await conn.fetchrow(
        "SELECT name, corporate_number, prefecture FROM implementing_organizations WHERE id = $1",
        implementing_organization_id,
    )
    if organization is None:
        return False
    legal_basis, ground = EMPLOYER_IMPROVEMENT_ORDER if action == "employer_improvement_order" else PLAN_REVOCATION
    row = {
        "id": action_id,
        "supervising_organization_id": None,
        "organization_id": implementing_organization_id,
        "organization_type": "implementing_organization",
        "name": organization["name"],
        "corporate_number": organization["corporate_number"],
        "prefecture": prefecture_code(organization["prefecture"]),
        "action": action,
        "action_date": action_date,
        "legal_basis": legal_basis,
        "ground": ground,
        "until_date": None,
        "scope": None,
        "deadline": deadline,
        "scheme": scheme.value,
    }
    await conn.execute(
        f"INSERT INTO disclosed_actions ({', '.join(_COLUMNS)})"
        f" VALUES ({', '.join(f'${i}' for i in range(1, len(_COLUMNS) + 1))}) ON CONFLICT (id) DO NOTHING",
        *(row[c] for c in _COLUMNS),
    )
    return True


def employer_action_id(implementing_organization_id: UUID, action: str, key: str) -> UUID:
    """An employer action's published id, derived (never a plan's or a trainee's id, which stay unpublished)."""
    return uuid5(_ACTION_IDS, f"{implementing_organization_id}/{action}/{key}")


# The columns, in the order the CSV lists them (api.schemas.DisclosedAction has them all).
FIELDS = (
    "action_date",
    "action",
    "name",
    "corporate_number",
    "prefecture",
    "legal_basis",
    "ground",
    "until_date",
    "scope",
    "deadline",
    "supervising_organization_id",
    "id",
    "scheme",
    "organization_type",
    "organization_id",
)
_COLUMNS = (
    "id",
    "supervising_organization_id",
    "organization_id",
    "organization_type",
    "name",
    "corporate_number",
    "prefecture",
    "action",
    "action_date",
    "legal_basis",
    "ground",
    "until_date",
    "scope",
    "deadline",
    "scheme",
)


async def project_disclosure(conn: asyncpg.Connection, id: str, state: Organization) -> None:
    """Publish the organization's actions; an action once published never changes."""
    actions = disclosed_actions(id, state)
    if actions:
        await conn.executemany(
            f"INSERT INTO disclosed_actions ({', '.join(_COLUMNS)})"
            f" VALUES ({', '.join(f'${i}' for i in range(1, len(_COLUMNS) + 1))}) ON CONFLICT (id) DO NOTHING",
            [tuple(a[c] for c in _COLUMNS) for a in actions],
        )


async def list_disclosed_actions(
    db: asyncpg.Pool,
    *,
    from_date: date | None,
    to_date: date | None,
    prefecture: str | None,
    action: str | None,
    after: tuple[date, UUID] | None,
    limit: int | None,
    scheme: Scheme | None = None,
) -> list[dict[str, Any]]:
    """The published actions, newest first, after the (action_date, id) `after`; all of them without `limit`;
    of both schemes unless `scheme` names one."""
    after_date, after_id = after or (None, None)
    rows = await db.fetch(
        f"""
        SELECT {", ".join(FIELDS)} FROM disclosed_actions
         WHERE ($1::date IS NULL OR action_date >= $1) AND ($2::date IS NULL OR action_date <= $2)
           AND ($3::text[] IS NULL OR prefecture = ANY($3)) AND ($4::text IS NULL OR action = $4)
           AND ($5::date IS NULL OR (action_date, id) < ($5, $6)) AND ($8::text IS NULL OR scheme = $8)
         ORDER BY action_date DESC, id DESC LIMIT $7
        """,
        from_date,
        to_date,
        prefecture_forms(prefecture),
        action,
        after_date,
        after_id,
        limit,
        scheme.value if scheme else None,
    )
    return [{**r, "prefecture": prefecture_code(r["prefecture"])} for r in rows]


async def action_counts(
    db: asyncpg.Pool, first: date, end: date, scheme: Scheme | None = None
) -> dict[tuple[int, str], int]:
    """(fiscal year, action) -> how many actions took effect from `first` until before `end` (of one scheme,
    if named)."""
    rows = await db.fetch(
        """
        SELECT extract(year FROM action_date - interval '3 months')::int AS fiscal_year, action, count(*) AS n
          FROM disclosed_actions WHERE action_date >= $1 AND action_date < $2 AND ($3::text IS NULL OR scheme = $3)
         GROUP BY 1, 2
        """,
        first,
        end,
        scheme.value if scheme else None,
    )
    return {(r["fiscal_year"], r["action"]): r["n"] for r in rows}
