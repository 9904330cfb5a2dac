"""A cohort across the switch from TITP to ESD on 2027-04-01 (DOMAIN §9), over REST and Kafka.

The registry's events (TITP permits, an ESD supervision support permit, employers and who supports them under
ESD, a sending organization and its agreements) come from a registry event store publishing on
`titp.registry.v1` through its real outbox relay; the accreditation service learns them from the topic, answers
over REST, and publishes its own events on `titp.accreditation.v1`. The national cap of fishery in FY2027 is set
to 2 through the service's settings (`TITP_ACCREDITATION_ESD_NATIONAL_CAPS`). TITP plans name their operation, and
the stage exams that open stages ii and iii are recorded as the exam body reports them (POST /v1/exam-results).

- a stage-i trainee in March 2027 moves to stage ii in May 2027 (applied for before the switch, as the 3 months'
  filing window asks, and certified after it);
- a new trainee's TITP application dated 2027-04-01 is refused as it arrives, and nothing is recorded;
- a stage-ii trainee with 11 months of stage ii done on 2027-04-01 is refused stage iii; one with 12 is certified
  (applied for after the switch, as a trainee in TITP on that day may);
- an ESD worker transfers to another employer after agriculture's year: too early, then over the 3 years across
  both plans, then certified, and the first plan ends as transferred;
- fishery reaches its national cap: the third worker is refused, and GET /v1/esd/fields shows no room left.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from uuid import UUID, uuid4

import pytest

from contracts.registry import (
    ImplementingOrganizationRegistered,
    PermitApplication,
    PermitApplied,
    PermitGranted,
    Scheme,
    SendingAgreementSigned,
    SendingOrganizationApproved,
    SupervisingOffice,
    SupervisionChanged,
    SupervisionSupportApplication,
    SupervisionSupportPermitApplied,
    SupervisionSupportPermitGranted,
    registry_events,
)
from services.accreditation.app import create_app
from shared.dates import add_months, last_day
from tests.helpers import eventually, group_at_end, post
from tests.integration.test_accreditation_service import (  # noqa: F401  (the upstream fixture)
    INSPECTION_TOPIC,
    PLANS,
    REGISTRY_TOPIC,
    Service,
    corporate_number,
    own_topic_ends,
    published,
    upstream,
)


@pytest.fixture
async def accreditation(fresh_database, service_settings, run_service, kafka_bootstrap, unique, monkeypatch):
    monkeypatch.setenv("TITP_ACCREDITATION_ESD_NATIONAL_CAPS", '{"2027": {"fishery": 2}}')
    group = f"test-accreditation-{unique}"
    await group_at_end(kafka_bootstrap, group, [REGISTRY_TOPIC, INSPECTION_TOPIC])
    app = create_app(service_settings("accreditation", fresh_database, relay_poll_interval_s=0.2, consumer_group=group))
    return Service(await run_service(app), app)


# Every TITP plan's operation (作業, shared/reference): one that goes on to stage iii.
OPERATION = "construction.carpentry.building"
OFFICE = SupervisingOffice(name="Head office", address="1-2-3 Chiyoda", supervision_manager="Suzuki Hanako")


@dataclass(frozen=True)
class Registry:
    specified: UUID  # a TITP supervising organization with a specified permit
    general: UUID  # ... with a general permit
    support: UUID  # an ESD supervision support organization (the same cooperative's second stream)
    aichi: UUID  # employers: under `specified` (TITP) and `support` (ESD), in Aichi
    excellent: UUID  # under `general`, rated excellent
    miyagi: UUID  # under `support` (ESD), in Miyagi
    sending: UUID


async def registry_of(store, accreditation: Service) -> Registry:
    r = Registry(*(uuid4() for _ in range(7)))
    for id, permit_type in ((r.specified, "specified"), (r.general, "general")):
        application = PermitApplication(
            name="Sakura Cooperative",
            corporate_number=corporate_number(),
            address="1-2-3 Chiyoda",
            prefecture="Tokyo",
            representative="Yamada Taro",
            supervising_offices=(OFFICE,),
            job_categories=("construction",),
            requested_permit_type=permit_type,
            external_auditor="Tanaka Law",
        )
        await store.append(
            id,
            PermitApplied(application=application, applied_on=date(2024, 1, 10)),
            PermitGranted(permit_type=permit_type, granted_on=date(2024, 3, 1), expires_on=date(2029, 2, 28)),
        )
    support = SupervisionSupportApplication(
        name="Sakura Cooperative",
        corporate_number=corporate_number(),
        address="1-2-3 Chiyoda",
        prefecture="Tokyo",
        representative="Yamada Taro",
        offices=(OFFICE,),
        job_categories=("agriculture", "fishery"),
        non_profit=True,
        external_auditor="Tanaka Law",
        full_time_staff=4,
        member_employers=3,
        workers=20,
    )
    await store.append(
        r.support,
        SupervisionSupportPermitApplied(application=support, applied_on=date(2026, 4, 10)),
        SupervisionSupportPermitGranted(granted_on=date(2026, 6, 1), expires_on=date(2029, 5, 31), excellent=False),
    )
    for id, supervisor, prefecture, excellent in (
        (r.aichi, r.specified, "Aichi", False),
        (r.excellent, r.general, "Aichi", True),
        (r.miyagi, r.specified, "Miyagi", False),
    ):
        await store.append(
            id,
            ImplementingOrganizationRegistered(
                name="Fuji Farms",
                corporate_number=corporate_number(),
                address="4-5-6 Naka",
                prefecture=prefecture,
                industry="agriculture",
                training_type="b",
                supervising_organization_id=supervisor,
                full_time_staff=40,
                staff_as_of=date(2024, 4, 1),
                excellent=excellent,
                registered_on=date(2024, 4, 1),
            ),
        )
    for id in (r.aichi, r.miyagi):
        await store.append(
            id,
            SupervisionChanged(
                supervising_organization_id=r.support, scheme=Scheme.ESD, effective_from=date(2026, 10, 1)
            ),
        )
    await store.append(
        r.sending,
        SendingOrganizationApproved(
            name="Hanoi Manpower JSC", country="VN", approval_reference="VN-123", approved_on=date(2023, 6, 1)
        ),
    )
    agreements = [uuid4() for _ in range(3)]
    for agreement, supervisor in zip(agreements, (r.specified, r.general, r.support), strict=True):
        await store.append(
            agreement,
            SendingAgreementSigned(
                supervising_organization_id=supervisor, sending_organization_id=r.sending, signed_on=date(2024, 5, 1)
            ),
        )
    await eventually(
        lambda: accreditation.fetchval(
            "SELECT (SELECT count(*) FROM registry_sending_agreements WHERE id = ANY($1::uuid[])) = 3"
            " AND (SELECT count(*) FROM registry_implementing_organizations"
            "      WHERE esd_supervising_organization_id = $2) = 2"
            " AND (SELECT scheme FROM registry_permits WHERE supervising_organization_id = $2) = 'esd'",
            agreements,
            r.support,
        ),
        timeout=30,
        message="the registry's events never reached the accreditation service",
    )
    return r


def titp(r: Registry, trainee: str, stage: str, start: str, end: str, applied_on: str, **changes) -> dict:
    return {
        "trainee_id": trainee,
        "trainee": {
            "name": "Nguyen Van An",
            "date_of_birth": "2001-05-01",
            "nationality": "VN",
            "passport_number": "C1",
        },
        "stage": stage,
        "training_type": "b",
        "job_category": "construction",
        "operation": OPERATION,
        "implementing_organization_id": str(r.aichi),
        "supervising_organization_id": str(r.specified),
        "sending_organization_id": str(r.sending),
        "start_date": start,
        "end_date": end,
        "monthly_wage": 210_000,
        "comparable_japanese_wage": 200_000,
        "exams_passed": [],
        "applied_on": applied_on,
        **changes,
    }


def esd(r: Registry, worker: str, field: str, employer: UUID, start: str, end: str, **changes) -> dict:
    return {
        "scheme": "esd",
        "trainee_id": worker,
        "trainee": {"name": "Siti Rahma", "date_of_birth": "2003-08-17", "nationality": "ID", "passport_number": "X1"},
        "field": field,
        "training_type": "b",
        "job_category": {"agriculture": "crop farming", "fishery": "set-net fishing"}[field],
        "implementing_organization_id": str(employer),
        "supervising_organization_id": str(r.support),
        "sending_organization_id": str(r.sending),
        "start_date": start,
        "end_date": end,
        "monthly_wage": 215_000,
        "comparable_japanese_wage": 210_000,
        "exams_passed": [{"grade": "japanese_a1", "passed_on": "2026-08-01"}],
        "applied_on": "2026-10-01",
        **changes,
    }


async def test_a_cohort_across_the_switch(accreditation, upstream, token, kafka_bootstrap):  # noqa: F811
    client, officer = accreditation.client, token("otit", subject="officer-ito")
    r = await registry_of(await upstream(registry_events), accreditation)
    since = await own_topic_ends(kafka_bootstrap)

    async def certified(body: dict, on: str) -> str:
        id = (await post(client, PLANS, body, officer, 201))["id"]
        await post(client, f"{PLANS}/{id}/certify", {"certified_on": on}, officer)
        return id

    async def exam_passed(trainee: str, grade: str, on: str) -> None:
        """The exam body's record of the stage exam (the filer's own `exams_passed` does not count)."""
        result = {"trainee_id": trainee, "grade": grade, "result": "passed", "taken_on": on}
        await post(client, "/v1/exam-results", result, officer)

    async def refused(body: dict, on: str) -> str:
        id = (await post(client, PLANS, body, officer, 201))["id"]
        answer = await client.post(f"{PLANS}/{id}/certify", json={"certified_on": on}, headers=officer)
        assert answer.status_code == 409, answer.text
        return answer.json()["rule"]

    # A stage-i trainee in March 2027 moves to stage ii in May 2027, applying after the switch.
    an = str(uuid4())
    # (Filed inside the windows: stage i from 6 to 4 months before its start, stage ii from 6 to 3.)
    stage_i = await certified(titp(r, an, "i", "2026-05-01", "2027-04-30", "2025-12-20"), "2026-02-20")
    await exam_passed(an, "basic", "2027-03-10")
    stage_ii = await certified(titp(r, an, "ii", "2027-05-01", "2029-04-30", "2027-01-20"), "2027-04-20")
    await post(client, f"{PLANS}/{stage_i}/complete", {"completed_on": "2027-04-30", "exam_result": "passed"}, officer)
    body = (await client.get(f"{PLANS}/{stage_ii}", headers=officer)).json()
    assert (body["scheme"], body["stage"], body["rule_set"], body["field"]) == ("titp", "ii", "titp", None)

    # A new trainee's TITP application dated 2027-04-01: refused as it arrives, nothing recorded.
    newcomer = str(uuid4())
    late = await client.post(
        PLANS, json=titp(r, newcomer, "i", "2027-06-01", "2028-05-31", "2027-04-01"), headers=officer
    )
    assert late.status_code == 409 and late.json()["rule"] == "switch.titp_application_closed"
    assert (await client.get(PLANS, params={"trainee_id": newcomer}, headers=officer)).json()["items"] == []
    in_time = await client.post(
        PLANS, json=titp(r, newcomer, "i", "2027-07-01", "2028-06-30", "2027-03-31"), headers=officer
    )
    assert in_time.status_code == 409 and in_time.json()["rule"] == "switch.titp_start_by"

    # Stage ii -> iii: 11 months of stage ii on 2027-04-01 are not enough; 12 are. (At an excellent employer under
    # a general permit, as stage iii asks.)
    at_excellent = {"implementing_organization_id": str(r.excellent), "supervising_organization_id": str(r.general)}
    for ii_start, iii_start, expected in (
        (date(2026, 5, 1), date(2028, 6, 1), "switch.stage_iii_year_of_stage_ii"),
        (date(2026, 4, 1), date(2028, 5, 1), None),
    ):
        worker = str(uuid4())
        i_start, ii_end = add_months(ii_start, -12), last_day(ii_start, 24)
        await certified(
            titp(r, worker, "i", str(i_start), str(ii_start - timedelta(days=1)), "2024-11-20", **at_excellent),
            "2025-02-10",
        )
        await exam_passed(worker, "basic", "2026-02-01")
        await certified(titp(r, worker, "ii", str(ii_start), str(ii_end), "2025-12-10", **at_excellent), "2026-02-20")
        await exam_passed(worker, "grade_3", "2028-01-15")
        stage_iii = titp(r, worker, "iii", str(iii_start), str(last_day(iii_start, 23)), "2028-02-01", **at_excellent)
        if expected:
            answer = await client.post(PLANS, json=stage_iii, headers=officer)
            assert answer.status_code == 409 and answer.json()["rule"] == expected
        else:
            id = await certified(stage_iii, "2028-03-01")
            assert (await client.get(f"{PLANS}/{id}", headers=officer)).json()["rule_set"] == "titp"

    # ESD: a worker in agriculture from the day ESD starts, applied for before it.
    worker = str(uuid4())
    first = await certified(esd(r, worker, "agriculture", r.aichi, "2027-04-01", "2030-03-31"), "2026-11-15")
    # Miyagi's employer has two workers of its own, so a transfer stays within its 1/3.
    for _ in range(2):
        await certified(esd(r, str(uuid4()), "agriculture", r.miyagi, "2027-04-01", "2030-03-31"), "2026-11-15")
    await post(
        client,
        "/v1/exam-results",
        {"trainee_id": worker, "grade": "basic", "result": "passed", "taken_on": "2028-02-10"},
        officer,
    )

    # The transfer at the worker's own wish: too early, then past the 3 years across both plans, then certified.
    def moving(start: str, end: str) -> dict:
        return esd(
            r,
            worker,
            "agriculture",
            r.miyagi,
            start,
            end,
            transfer_from=first,
            transfer_reason="own_wish",
            applied_on="2028-02-15",
        )

    assert await refused(moving("2028-03-31", "2030-03-30"), "2028-03-01") == "esd.transfer_too_early"
    assert await refused(moving("2028-04-01", "2030-04-01"), "2028-03-01") == "esd.total_period"
    second = await certified(moving("2028-04-01", "2030-03-31"), "2028-03-01")
    body = (await client.get(f"{PLANS}/{first}", headers=officer)).json()
    assert body["status"] == "transferred" and (body["scheme"], body["stage"]) == ("esd", None)
    assert body["transfer"] == {"transferred_on": "2028-04-01", "to_plan_id": second, "reason": "own_wish"}
    body = (await client.get(f"{PLANS}/{second}", headers=officer)).json()
    assert (body["transfer_from"], body["transfer_reason"], body["rule_set"]) == (first, "own_wish", "esd")

    # Check: the first-year flag, as of 2028-04-01: Miyagi's own workers have no basic grade recorded.
    flagged = (
        await client.get(
            PLANS,
            params={
                "implementing_organization_id": str(r.miyagi),
                "first_year_exams_missing": "true",
                "on": "2028-04-01",
            },
            headers=officer,
        )
    ).json()["items"]
    assert len(flagged) == 2 and second not in {p["id"] for p in flagged}

    # Fishery reaches its national cap of 2 in FY2027 (set through the settings).
    for _ in range(2):
        await certified(esd(r, str(uuid4()), "fishery", r.aichi, "2027-04-01", "2030-03-31"), "2026-11-20")
    assert await refused(esd(r, str(uuid4()), "fishery", r.aichi, "2027-04-01", "2030-03-31"), "2026-11-20") == (
        "esd.national_cap"
    )
    fields = (await client.get("/v1/esd/fields", params={"fiscal_year": 2027}, headers=officer)).json()
    shown = {f["field"]: f for f in fields["fields"]}
    assert fields["fiscal_year"] == 2027 and len(shown) == 17
    assert {k: shown["fishery"][k] for k in ("cap", "workers", "room_left")} == {"cap": 2, "workers": 2, "room_left": 0}
    assert (shown["agriculture"]["workers"], shown["agriculture"]["transfer_period_years"]) == (3, 1)
    assert (shown["nursing_care"]["transfer_japanese_level"], shown["construction"]["cap"]) == ("japanese_a2", 123_500)
    next_year = (await client.get("/v1/esd/fields", params={"fiscal_year": 2028}, headers=officer)).json()
    assert {f["field"]: f["cap"] for f in next_year["fields"]}["fishery"] == 4_000

    # Check: lists by scheme; every event names its scheme, on the topic too.
    def listed(**params):
        return client.get(PLANS, params={"implementing_organization_id": str(r.aichi), **params}, headers=officer)

    esd_plans = (await listed(scheme="esd")).json()["items"]
    assert len(esd_plans) == 4 and {p["scheme"] for p in esd_plans} == {"esd"}
    assert {p["scheme"] for p in (await listed(scheme="titp")).json()["items"]} == {"titp"}
    events = await published(kafka_bootstrap, since, first, 3)
    assert [e.type.split(".")[2] for e in events] == [
        "TrainingPlanApplied",
        "TrainingPlanCertified",
        "TrainingPlanTransferred",
    ]
    assert {(e.data["scheme"], e.data["stage"]) for e in events} == {("esd", None)}
    assert events[-1].data["transferred_on"] == "2028-04-01" and events[-1].actor == "officer-ito"
    applied = (await published(kafka_bootstrap, since, stage_ii, 1))[0]
    assert (applied.data["scheme"], applied.data["stage"]) == ("titp", "ii")
