"""Employment for Skill Development in the registry (DOMAIN §9), one story over REST and Kafka against the real
stack: an application refused at grant for its staffing, a cooperative holding a TITP permit that applies again
under ESD and is granted (two records, one corporate number), an employer put under its support, its quarterly
audit reports (one on time, one late, one with too few interviews), the public disclosure and statistics by
scheme, the expiry sweep, and every event on `titp.registry.v1`."""

import uuid
from collections import Counter

import pytest
from cloudevents.core.bindings.kafka import KafkaMessage, from_structured_event

from services.registry.app import DEFINITION, create_app
from shared.audit.replay import rebuild
from tests.helpers import corporate_number, event_count, post, read_topic_from, topic_end_offsets
from tests.helpers import permit_application as titp_application

SO, SSO, IO = "/v1/supervising-organizations", "/v1/supervision-support-organizations", "/v1/implementing-organizations"


@pytest.fixture
async def registry(fresh_database, service_settings, run_service):
    return await run_service(create_app(service_settings("registry", fresh_database, relay_poll_interval_s=0.2)))


def esd_application(**overrides):
    return {
        "name": "Sakura Business Cooperative",
        "corporate_number": corporate_number(),
        "address": "1-2-3 Chiyoda, Tokyo",
        "prefecture": "Tokyo",
        "representative": "Yamada Taro",
        "offices": [{"name": "Head office", "address": "1-2-3 Chiyoda, Tokyo", "supervision_manager": "Suzuki Hanako"}],
        "job_categories": ["construction"],
        "non_profit": True,
        "external_auditor": "Tanaka Law Office",
        "full_time_staff": 3,
        "member_employers": 12,
        "workers": 90,
        "applied_on": "2026-06-01",
        **overrides,
    }


async def refused(client, path, body, headers, rule, status=409):
    answer = await client.post(path, json=body, headers=headers)
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    if rule:
        assert answer.json()["rule"] == rule, answer.text
    return answer.json()


async def test_a_cooperative_holds_both_permits_and_files_its_quarterly_audits(
    registry, token, fresh_database, kafka_bootstrap
):
    offsets = await topic_end_offsets(kafka_bootstrap)
    officer = token("otit", subject="officer-ito")

    # An association with one full-time staff member applies; its grant is refused, naming the staffing rule.
    understaffed = (await post(registry, SSO, esd_application(full_time_staff=1), officer, 201))["id"]
    before = await event_count(fresh_database, understaffed)
    problem = await refused(
        registry,
        f"{SSO}/{understaffed}/grant",
        {"granted_on": "2026-09-01", "excellent": False},
        officer,
        "supervision_support.full_time_staff",
    )
    assert "at least 2 full-time staff" in problem["detail"]
    assert await event_count(fresh_database, understaffed) == before
    await post(registry, f"{SSO}/{understaffed}/deny", {"reason": "one full-time staff member"}, officer)

    # The Sakura cooperative holds a TITP permit, and applies again under ESD as an organization of its own.
    number = corporate_number()
    titp = (await post(registry, SO, titp_application(corporate_number=number), officer, 201))["id"]
    await post(
        registry,
        f"{SO}/{titp}/grant",
        {"permit_type": "general", "granted_on": "2026-05-01", "meets_excellence_standard": True},
        officer,
    )
    esd = str(uuid.uuid4())
    cooperative = token("supervising_org", org=esd, subject="sakura-clerk")
    created = await registry.post(SSO, json=esd_application(corporate_number=number), headers=cooperative)
    assert created.status_code == 201, created.text
    assert created.json() == {"id": esd, "version": 1} and created.headers["location"] == f"{SSO}/{esd}"
    # Check: the number is taken once per scheme; the TITP record's id is not the ESD record's.
    await refused(registry, SSO, esd_application(corporate_number=number), officer, "corporate_number.unique")
    await refused(
        registry,
        SSO,
        esd_application(corporate_number=corporate_number()),
        token("supervising_org", org=titp),
        "application.id_in_use",
    )
    granted = await post(registry, f"{SSO}/{esd}/grant", {"granted_on": "2026-09-01", "excellent": False}, officer)
    assert granted == {"id": esd, "version": 2}

    shown = await registry.get(f"{SSO}/{esd}", headers=cooperative)
    assert shown.status_code == 200 and shown.headers["etag"] == '"2"'
    document = shown.json()
    assert {k: document[k] for k in ("scheme", "corporate_number", "lifecycle", "status", "expires_on")} == {
        "scheme": "esd",
        "corporate_number": number,
        "lifecycle": "active",
        "status": "active",
        "expires_on": "2029-08-31",  # 3 years, ending the day before the anniversary
    }
    assert (await registry.get(f"{SO}/{titp}", headers=officer)).json()["corporate_number"] == number
    both = (await registry.get(SSO, headers=officer, params={"corporate_number": number})).json()["items"]
    assert [item["id"] for item in both] == [esd]
    # Check: as of the day after its last day it shows expired, before the sweep records it; another
    # organization does not see it.
    then = (await registry.get(f"{SSO}/{esd}", headers=officer, params={"as_of": "2029-09-01"})).json()
    assert (then["status"], then["lifecycle"], then["version"]) == ("expired", "active", 2)
    assert (await registry.get(f"{SSO}/{esd}", headers=officer, params={"as_of": "2000-01-01"})).status_code == 404
    stranger = token("supervising_org", org=str(uuid.uuid4()))
    assert (await registry.get(f"{SSO}/{esd}", headers=stranger)).status_code == 404
    assert (await registry.get(SSO, headers=stranger)).json()["items"] == []
    assert [i["id"] for i in (await registry.get(SSO, headers=cooperative)).json()["items"]] == [esd]

    # An employer, supervised under TITP by the cooperative's TITP record, is supported under ESD from 1 Apr 2027.
    employer = (
        await post(
            registry,
            IO,
            {
                "name": "Fuji Construction",
                "corporate_number": corporate_number(),
                "address": "4-5-6 Naka, Nagoya",
                "prefecture": "Aichi",
                "industry": "construction",
                "training_type": "b",
                "supervising_organization_id": titp,
                "full_time_staff": 35,
                "staff_as_of": "2026-04-01",
                "excellent": False,
                "registered_on": "2026-05-10",
            },
            officer,
            201,
        )
    )["id"]
    supervision = {"supervising_organization_id": esd, "scheme": "esd", "from": "2026-08-01"}
    await refused(registry, f"{IO}/{employer}/supervision", supervision, officer, "supervision.permit_not_in_force")
    await refused(
        registry,
        f"{IO}/{employer}/supervision",
        {**supervision, "scheme": "titp", "from": "2027-04-01"},  # the ESD record is no TITP supervising organization
        officer,
        "supervision.organization_unknown",
    )
    await post(registry, f"{IO}/{employer}/supervision", {**supervision, "from": "2027-04-01"}, officer)
    shown = (await registry.get(f"{IO}/{employer}", headers=cooperative)).json()  # the supporter sees it
    assert shown["supervision"] == {
        "titp": {"organization_id": titp, "from": "2026-05-10"},
        "esd": {"organization_id": esd, "from": "2027-04-01"},
    }
    assert shown["supervising_organization_id"] == titp
    assert [i["id"] for i in (await registry.get(IO, headers=cooperative)).json()["items"]] == [employer]

    # Its quarterly audit reports: one on time, one late, one with too few interviews, one by another organization.
    reports = f"{SSO}/{esd}/audit-reports"

    def audit(quarter_ending, filed_on, workers=12, interviewed=3):
        return {
            "implementing_organization_id": employer,
            "quarter_ending": quarter_ending,
            "filed_on": filed_on,
            "workers": workers,
            "workers_interviewed": interviewed,
        }

    await post(registry, reports, audit("2027-06-30", "2027-07-20"), cooperative)
    await refused(
        registry, reports, audit("2027-09-30", "2027-10-15", 12, 2), cooperative, "audit_report.too_few_interviews"
    )
    await refused(registry, reports, audit("2027-09-30", "2027-10-15"), stranger, None, status=404)
    await refused(registry, reports, audit("2027-06-30", "2027-07-21"), cooperative, "audit_report.already_filed")
    filed = await post(registry, reports, audit("2027-09-30", "2028-01-05", 13, 4), cooperative)
    assert filed["id"] == esd
    listed = (await registry.get(reports, headers=cooperative)).json()
    assert [(r["quarter_ending"], r["filed_on"], r["due_by"], r["late"]) for r in listed["items"]] == [
        ("2027-09-30", "2028-01-05", "2027-12-31", True),
        ("2027-06-30", "2027-07-20", "2027-09-30", False),
    ]
    assert (await registry.get(reports, headers=stranger)).status_code == 404
    page = (await registry.get(reports, headers=officer, params={"limit": 1})).json()
    rest = (await registry.get(reports, headers=officer, params={"limit": 1, "cursor": page["next_cursor"]})).json()
    assert page["items"] + rest["items"] == listed["items"] and rest["next_cursor"] is None

    # The public disclosure lists the ESD permit's suspension beside the TITP permit's, each with its scheme.
    for base, id in ((SSO, esd), (SO, titp)):
        await post(
            registry,
            f"{base}/{id}/suspend",
            {
                "from_date": "2028-02-01",
                "until_date": "2028-03-31",
                "scope": "all",
                "reason": "Art. 37(3) order",
                "ground": "law_breached",
            },
            officer,
        )
    public = (await registry.get("/v1/public/administrative-actions")).json()["items"]
    assert sorted((i["scheme"], i["supervising_organization_id"], i["action"]) for i in public) == [
        ("esd", esd, "suspension"),
        ("titp", titp, "suspension"),
    ]
    only_esd = (await registry.get("/v1/public/administrative-actions", params={"scheme": "esd"})).json()["items"]
    assert [i["supervising_organization_id"] for i in only_esd] == [esd]
    csv = await registry.get("/v1/public/administrative-actions", params={"format": "csv"})
    assert csv.text.splitlines()[0].endswith(",scheme,organization_type,organization_id")
    statistics = (
        await registry.get(
            "/v1/statistics/administrative-actions",
            headers=officer,
            params={"from_fiscal_year": 2027, "to_fiscal_year": 2027, "scheme": "esd"},
        )
    ).json()["fiscal_years"]
    assert (statistics[0]["suspensions"], statistics[0]["revocations"]) == (1, 0)
    permits = (await registry.get("/v1/statistics/supervision-support-permits", headers=officer)).json()
    assert permits == {"prefecture": None, "total": 2, "permits": {"active": 1, "denied": 1}, "active_excellent": 0}
    titp_permits = (await registry.get("/v1/statistics/permits", headers=officer)).json()
    assert titp_permits["total"] == 1  # the TITP statistics count TITP permits only, as before

    # The expiry sweep of ESD permits: the day after the last day, and not before.
    sweep = f"{SSO}/expiries"
    assert (await post(registry, sweep, {"as_of": "2029-08-31"}, officer))["expired"] == []
    assert (await post(registry, sweep, {"as_of": "2029-09-01"}, officer))["expired"] == [esd]
    assert (await post(registry, f"{SO}/expiries", {"as_of": "2029-09-01"}, officer))["expired"] == []
    await refused(
        registry,
        f"{SSO}/{esd}/renew",
        {"renewed_on": "2029-09-02", "excellent": True},
        officer,
        "renewal.permit_expired",
    )

    # Check: every event is on titp.registry.v1 as CloudEvents, in each stream's order.
    published = await read_topic_from(kafka_bootstrap, offsets, {esd, employer}, 8, timeout=30)
    types = [
        (
            m.key.decode(),
            from_structured_event(KafkaMessage(headers=dict(m.headers), key=m.key, value=m.value))
            .get_type()
            .split(".")[2],
        )
        for m in published
    ]
    assert [t for k, t in types if k == esd] == [
        "SupervisionSupportPermitApplied",
        "SupervisionSupportPermitGranted",
        "QuarterlyAuditReportFiled",
        "QuarterlyAuditReportFiled",
        "BusinessSuspended",
        "PermitExpired",
    ]
    assert [t for k, t in types if k == employer] == ["ImplementingOrganizationRegistered", "SupervisionChanged"]
    history = (await registry.get(f"/v1/audit/streams/{esd}", headers=token("auditor"))).json()
    assert history["chain"] == "ok" and history["events"][0]["actor"] == "sakura-clerk"

    # Check: the read models are the projection of the log: dropped and rebuilt from it, they come back the same.
    pool = registry._transport.app.state.pool
    tables = (
        "supervision_support_organizations",
        "quarterly_audit_reports",
        "disclosed_actions",
        "corporate_numbers",
        "implementing_organizations",
    )

    async def rows() -> dict[str, Counter[str]]:
        async with pool.acquire() as conn:
            return {t: Counter(r[0] for r in await conn.fetch(f"SELECT to_jsonb(t)::text FROM {t} t")) for t in tables}

    kept = await rows()
    assert sum(map(len, kept.values())) == 9
    async with pool.acquire() as conn:
        for table in tables:
            await conn.execute(f"DELETE FROM {table}")
    await rebuild(DEFINITION, pool)
    assert await rows() == kept
