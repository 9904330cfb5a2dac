"""The local read model of the registry, built from its events on `titp.registry.v1` (ARCHITECTURE §1, §3).

What a certification needs to know of supervising organizations' permits (TITP) and supervision
support organizations' permits (ESD: a stream, and a row, of their own; suspension, revocation and
expiry come as the TITP permit's events on that stream), implementing organizations and who supervises
them under each scheme, sending organizations and their agreements, as the registry published it.
"""

from datetime import date
from uuid import UUID

import asyncpg

from contracts.registry import (
    BusinessSuspended,
    ExcellenceRated,
    ImplementingOrganizationRegistered,
    PermitApplied,
    PermitDenied,
    PermitDowngraded,
    PermitExpired,
    PermitGranted,
    PermitRenewed,
    PermitRevoked,
    PermitType,
    PermitTypeChanged,
    Scheme,
    SendingAgreementEnded,
    SendingAgreementSigned,
    SendingOrganizationApproved,
    SendingOrganizationWithdrawn,
    StabilityRecognitionRecorded,
    StaffCountRecorded,
    SupervisionChanged,
    SupervisionEnded,
    SupervisionStep,
    SupervisionSupportPermitApplied,
    SupervisionSupportPermitDenied,
    SupervisionSupportPermitGranted,
    SupervisionSupportPermitRenewed,
    TrainingType,
    supervision_periods,
)
from services.accreditation.domain.rules import (
    ImplementingOrganization,
    Period,
    Permit,
    Supervision,
    prefecture_code,
)


async def record_registry_event(conn: asyncpg.Connection, stream_id: str, event: object) -> None:
    """Apply one registry event to the local read model; events it does not need change nothing."""
    id = UUID(stream_id)
    for record in (_permits, _organizations, _sending, _supervisions):
        await record(conn, id, event)


async def _permits(conn: asyncpg.Connection, id: UUID, event: object) -> None:
    """Permits: TITP's (supervising organizations) and ESD's (supervision support organizations)."""
    match event:
        case PermitApplied():
            await _permit(conn, id, status="applied")
        case PermitGranted():
            await _permit(
                conn,
                id,
                status="active",
                permit_type=event.permit_type.value,
                permit_type_as_of=event.granted_on,
                granted_on=event.granted_on,
                expires_on=event.expires_on,
            )
        case PermitTypeChanged():
            # Art. 32: specified -> general, the permit keeping its last day. Only a TITP permit has a type; a
            # change older than the type already known (a downgrade since, or the same change seen again)
            # changes nothing.
            await conn.execute(
                "UPDATE registry_permits SET permit_type = $2, expires_on = $3, permit_type_as_of = $4"
                " WHERE supervising_organization_id = $1 AND scheme = 'titp'"
                " AND (permit_type_as_of IS NULL OR permit_type_as_of <= $4)",
                id,
                event.permit_type.value,
                event.expires_on,
                event.changed_on,
            )
        case PermitDenied():
            await _permit(conn, id, status="denied")
        case PermitRevoked():
            await _permit(conn, id, status="revoked", revoked_on=event.revoked_on)
        case PermitExpired():
            await _permit(conn, id, status="expired")
        case SupervisionSupportPermitApplied():
            await _permit(conn, id, status="applied", scheme=Scheme.ESD.value)
        case SupervisionSupportPermitGranted():
            await _permit(
                conn,
                id,
                status="active",
                scheme=Scheme.ESD.value,
                granted_on=event.granted_on,
                expires_on=event.expires_on,
                excellent=event.excellent,
            )
        case SupervisionSupportPermitDenied():
            await _permit(conn, id, status="denied", scheme=Scheme.ESD.value)
        case SupervisionSupportPermitRenewed():
            await conn.execute(
                "UPDATE registry_permits SET expires_on = $2, excellent = $3 WHERE supervising_organization_id = $1",
                id,
                event.expires_on,
                event.excellent,
            )
        case PermitRenewed():
            await conn.execute(
                "UPDATE registry_permits SET expires_on = $2 WHERE supervising_organization_id = $1",
                id,
                event.expires_on,
            )
        case PermitDowngraded():
            await conn.execute(
                "UPDATE registry_permits SET permit_type = $2,"
                " permit_type_as_of = greatest(permit_type_as_of, $3::date)"
                " WHERE supervising_organization_id = $1 AND scheme = 'titp'",
                id,
                PermitType.SPECIFIED.value,
                event.effective_on,
            )
        case BusinessSuspended():
            suspension = {
                "from_date": event.from_date.isoformat(),
                "until_date": event.until_date.isoformat(),
                "scope": event.scope,
            }
            await conn.execute(
                "UPDATE registry_permits SET suspensions = suspensions || jsonb_build_array($2::jsonb)"
                " WHERE supervising_organization_id = $1",
                id,
                suspension,
            )


async def _organizations(conn: asyncpg.Connection, id: UUID, event: object) -> None:
    """Implementing organizations, and who supervises (TITP) or supports (ESD) them."""
    match event:
        case ImplementingOrganizationRegistered():
            await conn.execute(
                """
                INSERT INTO registry_implementing_organizations (id, training_type, supervising_organization_id,
                    full_time_staff, staff_as_of, excellent, excellent_as_of, prefecture, stability_recognised,
                    stability_recognised_as_of)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $7) ON CONFLICT (id) DO NOTHING
                """,
                id,
                event.training_type.value,
                event.supervising_organization_id,
                event.full_time_staff,
                event.staff_as_of,
                event.excellent,
                event.registered_on,
                prefecture_code(event.prefecture),  # the JIS code, whether the event carries it or the name
                event.stability_recognised,
            )
        case StaffCountRecorded():
            # Quotas use the latest figure: a count as of an earlier day does not replace a newer one.
            await conn.execute(
                "UPDATE registry_implementing_organizations SET full_time_staff = $2, staff_as_of = $3"
                " WHERE id = $1 AND staff_as_of <= $3",
                id,
                event.full_time_staff,
                event.as_of,
            )
        case ExcellenceRated():
            await conn.execute(
                "UPDATE registry_implementing_organizations SET excellent = $2, excellent_as_of = $3"
                " WHERE id = $1 AND excellent_as_of <= $3",
                id,
                event.excellent,
                event.as_of,
            )
        case StabilityRecognitionRecorded():
            # Type (a): the latest recognition decides (one as of an earlier day does not replace a newer one).
            await conn.execute(
                "UPDATE registry_implementing_organizations SET stability_recognised = $2,"
                " stability_recognised_as_of = $3"
                " WHERE id = $1 AND (stability_recognised_as_of IS NULL OR stability_recognised_as_of <= $3)",
                id,
                event.recognised,
                event.as_of,
            )
        case SupervisionChanged() if event.scheme is Scheme.ESD:
            await conn.execute(
                "UPDATE registry_implementing_organizations SET esd_supervising_organization_id = $2,"
                " esd_supervised_from = $3 WHERE id = $1",
                id,
                event.supervising_organization_id,
                event.effective_from,
            )
        case SupervisionChanged():
            await conn.execute(
                "UPDATE registry_implementing_organizations SET supervising_organization_id = $2,"
                " supervised_from = $3 WHERE id = $1",
                id,
                event.supervising_organization_id,
                event.effective_from,
            )


async def _supervisions(conn: asyncpg.Connection, id: UUID, event: object) -> None:
    """Every supervision of an employer, with its dates (issue 20: more than one under TITP). The single columns
    above keep the latest begun of each scheme; after an end they name the latest one not ended, if any."""
    match event:
        case ImplementingOrganizationRegistered(supervising_organization_id=UUID() as organization_id):
            await _step(conn, id, Scheme.TITP, organization_id, None)
        case SupervisionChanged():
            await _step(
                conn,
                id,
                event.scheme,
                event.supervising_organization_id,
                event.effective_from,
                alongside=event.alongside,
            )
        case SupervisionEnded():
            await _step(conn, id, event.scheme, event.supervising_organization_id, event.effective_until, ended=True)
            current = [s for s in await supervisions(conn, id) if s.scheme is event.scheme and s.until is None]
            if current:
                latest = max(current, key=lambda s: s.from_date or date.min)
                column = (
                    "esd_supervising_organization_id" if event.scheme is Scheme.ESD else "supervising_organization_id"
                )
                since = "esd_supervised_from" if event.scheme is Scheme.ESD else "supervised_from"
                await conn.execute(
                    f"UPDATE registry_implementing_organizations SET {column} = $2, {since} = $3 WHERE id = $1",
                    id,
                    latest.organization_id,
                    latest.from_date,
                )


async def _step(
    conn: asyncpg.Connection,
    id: UUID,
    scheme: Scheme,
    organization_id: UUID,
    day: date | None,
    *,
    ended: bool = False,
    alongside: bool = False,
) -> None:
    await conn.execute(
        "INSERT INTO registry_supervision_steps (implementing_organization_id, scheme, supervising_organization_id,"
        " day, ended, alongside) VALUES ($1, $2, $3, $4, $5, $6)",
        id,
        scheme.value,
        organization_id,
        day,
        ended,
        alongside,
    )


async def supervisions(conn: asyncpg.Connection, id: UUID) -> tuple[Supervision, ...]:
    """The employer's supervisions, both schemes, with their dates, as the registry published them."""
    rows = await conn.fetch(
        "SELECT scheme, supervising_organization_id, day, ended, alongside FROM registry_supervision_steps"
        " WHERE implementing_organization_id = $1 ORDER BY seq",
        id,
    )
    return supervision_periods(
        SupervisionStep(Scheme(r["scheme"]), r["supervising_organization_id"], r["day"], r["ended"], r["alongside"])
        for r in rows
    )


async def _sending(conn: asyncpg.Connection, id: UUID, event: object) -> None:
    """Sending organizations and their agreements."""
    match event:
        case SendingOrganizationApproved():
            await conn.execute(
                "INSERT INTO registry_sending_organizations (id, country, approved)"
                " VALUES ($1, $2, true) ON CONFLICT (id) DO UPDATE SET approved = true",
                id,
                event.country,
            )
        case SendingOrganizationWithdrawn():
            await conn.execute("UPDATE registry_sending_organizations SET approved = false WHERE id = $1", id)
        case SendingAgreementSigned():
            await conn.execute(
                "INSERT INTO registry_sending_agreements (id, supervising_organization_id,"
                " sending_organization_id, signed_on) VALUES ($1, $2, $3, $4)"
                " ON CONFLICT (id) DO NOTHING",
                id,
                event.supervising_organization_id,
                event.sending_organization_id,
                event.signed_on,
            )
        case SendingAgreementEnded():
            await conn.execute("UPDATE registry_sending_agreements SET ended_on = $2 WHERE id = $1", id, event.ended_on)


async def _permit(conn: asyncpg.Connection, id: UUID, **values) -> None:
    columns = list(values)
    await conn.execute(
        f"INSERT INTO registry_permits (supervising_organization_id, {', '.join(columns)})"
        f" VALUES ($1, {', '.join(f'${i}' for i in range(2, len(columns) + 2))})"
        f" ON CONFLICT (supervising_organization_id) DO UPDATE SET"
        f" {', '.join(f'{c} = excluded.{c}' for c in columns)}",
        id,
        *values.values(),
    )


async def implementing_organization(conn: asyncpg.Connection, id: UUID) -> ImplementingOrganization | None:
    row = await conn.fetchrow(
        "SELECT training_type, supervising_organization_id, full_time_staff, excellent, prefecture,"
        " esd_supervising_organization_id, esd_supervised_from, stability_recognised, supervised_from"
        " FROM registry_implementing_organizations WHERE id = $1",
        id,
    )
    if row is None:
        return None
    return ImplementingOrganization(
        TrainingType(row["training_type"]),
        row["supervising_organization_id"],
        row["full_time_staff"],
        row["excellent"],
        prefecture_code(row["prefecture"]),  # rows recorded before issue 19 hold the name
        row["esd_supervising_organization_id"],
        row["esd_supervised_from"],
        row["stability_recognised"],
        row["supervised_from"],
        await supervisions(conn, id),
    )


async def permit(conn: asyncpg.Connection, supervising_organization_id: UUID) -> Permit | None:
    # FOR SHARE: a revocation arriving meanwhile waits for this certification to commit, and
    # then finds the new plan among the plans it flags (see subscriptions.py).
    row = await conn.fetchrow(
        "SELECT status, permit_type, granted_on, expires_on, suspensions, scheme FROM registry_permits"
        " WHERE supervising_organization_id = $1 FOR SHARE",
        supervising_organization_id,
    )
    if row is None:
        return None
    return Permit(
        row["status"],
        row["permit_type"],
        row["granted_on"],
        row["expires_on"],
        tuple(
            Period(date.fromisoformat(s["from_date"]), date.fromisoformat(s["until_date"])) for s in row["suspensions"]
        ),
        Scheme(row["scheme"]),
    )


async def sending_organization_approved(conn: asyncpg.Connection, id: UUID) -> bool:
    return bool(await conn.fetchval("SELECT approved FROM registry_sending_organizations WHERE id = $1", id))


async def sending_agreement_in_force(
    conn: asyncpg.Connection, supervising_organization_id: UUID, sending_organization_id: UUID, on: date
) -> bool:
    return await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM registry_sending_agreements WHERE supervising_organization_id = $1"
        " AND sending_organization_id = $2 AND signed_on <= $3 AND (ended_on IS NULL OR ended_on > $3))",
        supervising_organization_id,
        sending_organization_id,
        on,
    )
