"""The law's corrections in accreditation (DOMAIN §11), across services over REST and Kafka only.

- A supervising organization's permit that expires in the registry flags the plans in force under it here, like a
  revoked one, and refuses new certifications under it.
- An inspection referral asking for an Art. 15 order produces the order on the implementing organization (the
  employer's stream); its breach revokes the employer's plans, naming the order (Art. 16(1)); after that the
  employer gets no plan certified (Art. 10). An officer issues and closes such orders over REST too.
- Stage ii is certified on the basic grade as the exam body recorded it (POST /v1/exam-results), not on the
  filer's declaration.
- A specified permit changed to general in the registry (Art. 32, `PermitTypeChanged`) covers stage iii here.
"""

from uuid import UUID, uuid4

from contracts.accreditation import employer_stream_id
from contracts.inspection import AdministrativeAction, AdministrativeActionReferred, TargetType, inspection_events
from tests.helpers import eventually, next_event, post, publish, registered_partners

PLANS = "/v1/training-plans"
EMPLOYERS = "/v1/implementing-organizations"
SO = "/v1/supervising-organizations"


def plan(partners, **changes) -> dict:
    """A type (b) stage-i plan in building carpentry, starting 1 Oct 2026, filed on 20 May 2026 (window: 1 Apr to
    1 Jun)."""
    return {
        "trainee_id": str(uuid4()),
        "trainee": {"name": "Le Thi Hoa", "date_of_birth": "2001-03-09", "nationality": "VN", "passport_number": "C1"},
        "stage": "i",
        "training_type": "b",
        "job_category": "construction",
        "operation": "construction.carpentry.building",
        "implementing_organization_id": partners.implementing,
        "supervising_organization_id": partners.supervising,
        "sending_organization_id": partners.sending,
        "start_date": "2026-10-01",
        "end_date": "2027-09-30",
        "monthly_wage": 215_000,
        "comparable_japanese_wage": 210_000,
        "applied_on": "2026-05-20",
        **changes,
    }


async def certified(client, officer, body: dict, certified_on: str = "2026-06-01") -> str:
    """Applied for and certified, once accreditation learned the registry's organizations from its topic."""
    id = (await post(client, PLANS, body, officer, 201))["id"]

    async def certify():
        response = await client.post(f"{PLANS}/{id}/certify", json={"certified_on": certified_on}, headers=officer)
        assert response.status_code in (200, 409), response.text
        return response.status_code == 200 or None

    await eventually(certify, timeout=30, message=f"plan {id} was never certified: {body}")
    return id


async def parties(start_service, token):
    registry, accreditation = await start_service("registry"), await start_service("accreditation")
    officer = token("otit", subject="officer-ueda")
    partners = await registered_partners(registry, officer, permit_type="specified")
    return registry, accreditation, officer, partners


async def test_an_expired_permit_flags_the_plans_in_force_and_refuses_new_ones(start_service, token):
    registry, accreditation, officer, partners = await parties(start_service, token)
    first = await certified(accreditation, officer, plan(partners))
    second = (await post(accreditation, PLANS, plan(partners), officer, 201))["id"]

    # The registry records the permit's expiry (its daily chore, here called by an officer).
    expiries = await post(registry, f"{SO}/expiries", {"as_of": "2036-01-01"}, officer)
    assert partners.supervising in expiries["expired"]
    [expiry] = [
        e
        for e in (await registry.get(f"/v1/audit/streams/{partners.supervising}", headers=token("auditor"))).json()[
            "events"
        ]
        if e["type"] == "titp.registry.PermitExpired.v1"
    ]

    # Check: the plan in force is flagged as needing a new supervising organization, caused by the expiry ...
    async def flagged():
        body = (await accreditation.get(f"{PLANS}/{first}", headers=officer)).json()
        return body if body["new_supervising_organization_required"] else None

    body = await eventually(flagged, timeout=30, message="the expiry never flagged the plan")
    assert body["new_supervising_organization_required"]["since"] == expiry["data"]["expired_on"]
    assert "expired" in body["new_supervising_organization_required"]["reason"]
    [flag] = (await accreditation.get(f"/v1/audit/streams/{first}", headers=token("auditor"))).json()["events"][-1:]
    assert flag["type"] == "titp.accreditation.NewSupervisingOrganizationRequired.v1"
    assert flag["causationid"] == expiry["id"]
    listed = await accreditation.get(PLANS, params={"needs_new_supervising_organization": "true"}, headers=officer)
    assert [p["id"] for p in listed.json()["items"]] == [first]

    # ... and no plan is certified under the expired permit, naming the rule.
    refused = await accreditation.post(
        f"{PLANS}/{second}/certify", json={"certified_on": "2026-06-02"}, headers=officer
    )
    assert (refused.status_code, refused.json()["rule"]) == (409, "supervising_organization.permit_active")
    assert "expired" in refused.json()["detail"]


async def test_a_referral_asking_for_an_art_15_order_issues_it_and_its_breach_revokes_the_plans(
    start_service, token, kafka_bootstrap
):
    registry, accreditation, officer, partners = await parties(start_service, token)
    implementing = partners.implementing
    in_force = await certified(accreditation, officer, plan(partners))
    pending = (await post(accreditation, PLANS, plan(partners), officer, 201))["id"]

    # The inspection service decides a referral asking for an Art. 15 order on the employer, delivered twice.
    referral = AdministrativeActionReferred(
        referral_id=uuid4(),
        inspection_id=uuid4(),
        action=AdministrativeAction.EMPLOYER_IMPROVEMENT_ORDER,
        target_type=TargetType.IMPLEMENTING_ORGANIZATION,
        target_id=UUID(implementing),
        decided_on="2026-11-01",
        reason="working hours not recorded",
        deadline="2026-12-01",
    )
    event = next_event(inspection_events, referral.inspection_id, referral, actor="inspector-kato")
    await publish(kafka_bootstrap, "titp.inspection.v1", event, event)

    # Check: the order is on the implementing organization, once, naming the referral and caused by it.
    async def ordered():
        found = (await accreditation.get(f"{EMPLOYERS}/{implementing}/improvement-orders", headers=officer)).json()
        return found or None

    [order] = await eventually(ordered, timeout=30, message="the referral never produced the order")
    assert (order["issued_on"], order["deadline"], order["referral_id"]) == (
        "2026-11-01",
        "2026-12-01",
        str(referral.referral_id),
    )
    assert order["closed_on"] is None
    auditor = token("auditor")
    stream = employer_stream_id(UUID(implementing))
    [issued] = (await accreditation.get(f"/v1/audit/streams/{stream}", headers=auditor)).json()["events"]
    assert issued["type"] == "titp.accreditation.EmployerImprovementOrderIssued.v1"
    assert issued["causationid"] == str(event.id)
    assert issued["data"]["implementing_organization_id"] == implementing

    # Not breached on its deadline (named, nothing changes); breached the day after: the plans in force are
    # revoked, each naming the order as its ground.
    breach = f"{EMPLOYERS}/{implementing}/improvement-orders/{order['order_id']}/breach"
    early = await accreditation.post(breach, json={"revoked_on": "2026-12-01"}, headers=officer)
    assert (early.status_code, early.json()["rule"]) == (409, "improvement_order.not_breached")
    assert (await accreditation.get(f"{PLANS}/{in_force}", headers=officer)).json()["status"] == "in_progress"
    await post(accreditation, breach, {"revoked_on": "2026-12-02"}, officer)
    body = (await accreditation.get(f"{PLANS}/{in_force}", headers=officer)).json()
    assert body["status"] == "revoked"
    assert body["revocation"]["improvement_order_id"] == order["order_id"]
    assert order["order_id"] in body["revocation"]["reason"]

    # Art. 10: the employer gets no plan certified for 5 years after the revocation.
    refused = await accreditation.post(
        f"{PLANS}/{pending}/certify", json={"certified_on": "2026-12-03"}, headers=officer
    )
    assert (refused.status_code, refused.json()["rule"]) == (409, "implementing_organization.certification_revoked")

    # An officer's own order over REST, closed when complied with; the employer reads its orders.
    mine = await post(
        accreditation,
        f"{EMPLOYERS}/{implementing}/improvement-orders",
        {"issued_on": "2026-12-10", "deadline": "2027-01-10", "reason": "wages paid late"},
        officer,
        201,
    )
    await post(
        accreditation,
        f"{EMPLOYERS}/{implementing}/improvement-orders/{mine['id']}/close",
        {"closed_on": "2027-01-05"},
        officer,
    )
    employer = token("implementing_org", org=implementing)
    orders = (await accreditation.get(f"{EMPLOYERS}/{implementing}/improvement-orders", headers=employer)).json()
    assert [(o["order_id"], o["closed_on"]) for o in orders] == [(order["order_id"], None), (mine["id"], "2027-01-05")]
    unknown = await accreditation.post(
        f"{EMPLOYERS}/{uuid4()}/improvement-orders",
        json={"issued_on": "2026-12-10", "deadline": "2027-01-10", "reason": "x"},
        headers=officer,
    )
    assert unknown.status_code == 404


async def test_stage_ii_is_certified_on_the_exam_result_the_exam_body_recorded(start_service, token):
    registry, accreditation, officer, partners = await parties(start_service, token)
    trainee = str(uuid4())
    stage_i = await certified(
        accreditation,
        officer,
        plan(partners, trainee_id=trainee, start_date="2026-09-01", end_date="2027-08-31", applied_on="2026-04-20"),
    )
    await post(
        accreditation, f"{PLANS}/{stage_i}/complete", {"completed_on": "2027-08-31", "exam_result": "passed"}, officer
    )
    stage_ii = plan(
        partners,
        trainee_id=trainee,
        stage="ii",
        start_date="2027-09-01",
        end_date="2029-08-31",
        applied_on="2027-05-01",
        exams_passed=[{"grade": "basic", "passed_on": "2027-06-01"}],
    )
    id = (await post(accreditation, PLANS, stage_ii, officer, 201))["id"]

    # The filer's declaration and the completion's result do not count: no recorded result, refused.
    refused = await accreditation.post(f"{PLANS}/{id}/certify", json={"certified_on": "2027-07-01"}, headers=officer)
    assert (refused.status_code, refused.json()["rule"]) == (409, "previous_stage.exam_passed")
    # The exam body's record does.
    exam = {"trainee_id": trainee, "grade": "basic", "result": "passed", "taken_on": "2027-06-01"}
    await post(accreditation, "/v1/exam-results", exam, officer)
    await post(accreditation, f"{PLANS}/{id}/certify", {"certified_on": "2027-07-01"}, officer)


async def test_a_permit_changed_to_general_in_the_registry_covers_stage_iii(start_service, token):
    registry, accreditation, officer, partners = await parties(start_service, token)  # a specified permit
    trainee = str(uuid4())
    # Stage i (2024-25) and stage ii (2025-27), certified once the permit and the agreement are in force.
    stage_i = await certified(
        accreditation,
        officer,
        plan(partners, trainee_id=trainee, start_date="2024-09-01", end_date="2025-08-31", applied_on="2024-04-20"),
    )
    await post(
        accreditation, f"{PLANS}/{stage_i}/complete", {"completed_on": "2025-08-31", "exam_result": "passed"}, officer
    )
    basic = {"trainee_id": trainee, "grade": "basic", "result": "passed", "taken_on": "2025-06-01"}
    await post(accreditation, "/v1/exam-results", basic, officer)
    stage_ii = plan(
        partners,
        trainee_id=trainee,
        stage="ii",
        start_date="2025-09-01",
        end_date="2027-08-31",
        applied_on="2025-05-01",
    )
    await certified(accreditation, officer, stage_ii)
    grade_3 = {"trainee_id": trainee, "grade": "grade_3", "result": "passed", "taken_on": "2027-06-01"}
    await post(accreditation, "/v1/exam-results", grade_3, officer)
    stage_iii = plan(
        partners,
        trainee_id=trainee,
        stage="iii",
        start_date="2027-10-01",
        end_date="2029-09-30",
        applied_on="2027-05-20",
    )
    id = (await post(accreditation, PLANS, stage_iii, officer, 201))["id"]

    # Under the specified permit: refused, naming the permit.
    refused = await accreditation.post(f"{PLANS}/{id}/certify", json={"certified_on": "2027-07-01"}, headers=officer)
    assert (refused.status_code, refused.json()["rule"]) == (409, "supervising_organization.permit_covers_stage")

    # The registry rates the employer excellent (stage iii needs it) and changes the business category to general
    # (Art. 32).
    await post(
        registry, f"{EMPLOYERS}/{partners.implementing}/rating", {"excellent": True, "as_of": "2027-04-01"}, officer
    )
    cooperative = token("supervising_org", org=partners.supervising)
    await post(registry, f"{SO}/{partners.supervising}/permit-type-changes", {"applied_on": "2027-04-01"}, cooperative)
    await post(
        registry,
        f"{SO}/{partners.supervising}/permit-type-changes/grant",
        {"changed_on": "2027-05-01", "meets_excellence_standard": True},
        officer,
    )

    # Check: once accreditation heard of it from the registry's topic, the stage iii plan is certified.
    async def certify():
        response = await accreditation.post(
            f"{PLANS}/{id}/certify", json={"certified_on": "2027-07-01"}, headers=officer
        )
        if response.status_code == 409 and response.json()["rule"] == "supervising_organization.permit_covers_stage":
            return None
        assert response.status_code == 200, response.text
        return response.json()

    await eventually(certify, timeout=30, message="the permit type change never reached accreditation")
    shown = (await accreditation.get(f"{PLANS}/{id}", headers=officer)).json()
    assert (shown["stage"], shown["status"]) == ("iii", "certified"), shown
