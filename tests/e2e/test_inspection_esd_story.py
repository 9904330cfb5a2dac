"""ESD in the inspection service, over REST and Kafka against the real registry and inspection services (issue 17
item 5): an ESD permit granted puts the supervision support organization's first inspection on the schedule,
under ESD; an employer it supports from 1 April 2027 gets one quarterly audit report on time and then none, and
the report owed shows as overdue on the filings worklist the day after it is due, not the day before. The
inspection then finds the audits not done and refers the ESD permit for revocation: the registry revokes it, and
its revocation cancels the organization's open inspection here and ends the reports it owes."""

from tests.helpers import corporate_number, eventually, post

WAIT = 30  # seconds for an effect to cross Kafka into another service
SSO = "/v1/supervision-support-organizations"


def support_application() -> dict:
    return {
        "name": "Kanto Skills Support Cooperative",
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
    }


def employer() -> dict:
    return {
        "name": "Fuji Construction",
        "corporate_number": corporate_number(),
        "address": "4-5-6 Naka, Nagoya",
        "prefecture": "Aichi",
        "industry": "construction",
        "training_type": "a",
        "full_time_staff": 35,
        "staff_as_of": "2026-04-01",
        "excellent": False,
        "registered_on": "2026-05-10",
    }


async def listed(client, path: str, headers: dict, **params) -> list[dict]:
    response = await client.get(path, headers=headers, params=params)
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def test_an_esd_permit_schedules_an_inspection_and_a_missing_audit_report_shows_overdue(start_service, token):
    registry = await start_service("registry")
    inspection = await start_service("inspection")
    officer, inspector = token("otit", subject="officer-ito"), token("otit", subject="inspector-kato")

    # An ESD permit granted: the support organization's first inspection, due within a year, under ESD.
    support = (await post(registry, SSO, support_application(), officer, 201))["id"]
    await post(registry, f"{SSO}/{support}/grant", {"granted_on": "2026-09-01", "excellent": False}, officer)

    async def first_inspection():
        items = await listed(inspection, "/v1/inspections", inspector, target_id=support)
        return items[0] if items else None

    first = await eventually(first_inspection, timeout=WAIT, message="the ESD permit never scheduled an inspection")
    assert (first["target_type"], first["scheme"], first["reason"], first["kind"]) == (
        "supervision_support_organization",
        "esd",
        "permit_granted",
        "regular",
    )
    assert (first["scheduled_on"], first["due_by"], first["status"]) == ("2026-09-01", "2027-09-01", "scheduled")
    # Check: the worklist's filters answer for it as for any inspection.
    by_type = await listed(inspection, "/v1/inspections", inspector, target_type="supervision_support_organization")
    assert first["id"] in [i["id"] for i in by_type]

    # An employer supported under ESD from 1 April 2027; its first quarter's report filed on its due day.
    company = (await post(registry, "/v1/implementing-organizations", employer(), officer, 201))["id"]
    await post(
        registry,
        f"/v1/implementing-organizations/{company}/supervision",
        {"supervising_organization_id": support, "scheme": "esd", "from": "2027-04-01"},
        officer,
    )

    async def owed(**params) -> dict | None:
        items = await listed(
            inspection,
            "/v1/filings",
            inspector,
            kind="quarterly_audit_report",
            supervision_support_organization_id=support,
            **params,
        )
        return items[0] if items else None

    due = await eventually(
        lambda: owed(overdue_as_of="2027-07-02"), timeout=WAIT, message="the support never reached the worklist"
    )
    assert (due["implementing_organization_id"], due["due_on"], due["overdue"]) == (company, "2027-07-01", True)
    await post(
        registry,
        f"{SSO}/{support}/audit-reports",
        {
            "implementing_organization_id": company,
            "quarter_ending": "2027-06-30",
            "filed_on": "2027-07-01",
            "workers": 8,
            "workers_interviewed": 2,
        },
        officer,
    )

    await eventually(
        lambda: _absent(owed(overdue_as_of="2027-07-02")), timeout=WAIT, message="the report never reached the worklist"
    )

    # Then none: the next report, due 3 months after the quarter reported (30 September), is overdue from 1 October.
    assert await owed(overdue_as_of="2027-07-01") is None  # filed on its due day: on time
    assert await owed(overdue_as_of="2027-09-30") is None  # the due day itself
    overdue = await owed(overdue_as_of="2027-10-01")
    assert overdue is not None
    assert {k: overdue[k] for k in ("kind", "scheme", "implementing_organization_id", "due_on", "overdue")} == {
        "kind": "quarterly_audit_report",
        "scheme": "esd",
        "implementing_organization_id": company,
        "due_on": "2027-09-30",
        "overdue": True,
    }
    assert (overdue["last_quarter_ending"], overdue["reports_filed"], overdue["status_on"]) == (
        "2027-06-30",
        1,
        "2027-10-01",
    )
    # Check: due_before combines with it; a reader other than OTIT may read the worklist, an organization may not.
    assert (await owed(overdue_as_of="2027-10-01", due_before="2027-10-01"))["due_on"] == "2027-09-30"
    assert await owed(overdue_as_of="2027-10-01", due_before="2027-09-30") is None
    audited = await listed(
        inspection,
        "/v1/filings",
        token("auditor"),
        overdue_as_of="2027-10-01",
        supervision_support_organization_id=support,
    )
    assert [f["id"] for f in audited] == [overdue["id"]]
    refused = await inspection.get("/v1/filings", headers=token("supervising_org", org=support))
    assert refused.status_code == 403, refused.text

    # The inspection finds the audits not done and refers the permit for revocation; the registry revokes it.
    await post(
        inspection,
        f"/v1/inspections/{first['id']}/complete",
        {
            "inspected_on": "2027-08-20",
            "inspector": "Kato Ken",
            "outcome": "referral",
            "findings": [
                {"code": "supervision_not_performed", "legal_breach": True, "description": "no audits since July"}
            ],
            "referral": {"action": "permit_revocation", "reason": "audits not performed", "ground": "law_breached"},
        },
        inspector,
    )

    async def cancelled():
        items = await listed(inspection, "/v1/inspections", inspector, target_id=support, status="cancelled")
        return items[0] if items else None

    next_one = await eventually(cancelled, timeout=WAIT, message="the revocation never cancelled the next inspection")
    assert (next_one["follows"], next_one["scheme"], next_one["cancellation_reason"], next_one["cancelled_on"]) == (
        first["id"],
        "esd",
        "permit_revoked",
        "2027-08-20",
    )
    permit = (await registry.get(f"{SSO}/{support}", headers=officer)).json()
    assert permit["status"] == "revoked", permit
    # Check: from the revocation on, the organization owes no more reports (today, before it, it still does).
    assert await owed(overdue_as_of="2027-10-01") is None
    assert (await owed())["supported_until"] == "2027-08-20"


async def _absent(answer) -> bool | None:
    return True if await answer is None else None
