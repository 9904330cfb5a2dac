"""The whole path over REST across the services, against the real Kafka and PostgreSQL: a permit
granted in the registry, a plan certified in accreditation, a COE and a visa issued in the visa
service; then a revocation in accreditation reaches the visa service and revokes the unused COE.

Each service runs with its own fresh database and its own consumer group; facts cross only as events.
"""

from uuid import uuid4

import pytest

from services.accreditation.app import create_app as create_accreditation
from services.registry.app import create_app as create_registry
from services.visa.app import create_app as create_visa
from services.visa.subscriptions import SUBSCRIBES_TO
from shared.topics import service_topic
from tests.e2e.test_visa_coe import COE, day
from tests.helpers import eventually, group_at_end, post, registered_partners
from tests.integration.test_accreditation_service import PLANS


@pytest.fixture
async def services(fresh_database, another_database, service_settings, run_service, kafka_bootstrap, unique):
    """registry, accreditation, visa: each with its database and a consumer group reading from now on."""
    clients = []
    for name, create, topics, database in (
        ("registry", create_registry, [service_topic("inspection")], await another_database()),
        (
            "accreditation",
            create_accreditation,
            [service_topic("registry"), service_topic("inspection")],
            await another_database(),
        ),
        ("visa", create_visa, SUBSCRIBES_TO, fresh_database),
    ):
        group = f"test-{name}-{unique}"
        await group_at_end(kafka_bootstrap, group, topics)
        clients.append(
            await run_service(create(service_settings(name, database, relay_poll_interval_s=0.2, consumer_group=group)))
        )
    return clients


async def once_accepted(client, path, body, headers, status=200, timeout=30):
    """POST until the service has heard what it needs from another one: 409 until then."""
    last = []

    async def attempt():
        response = await client.post(path, json=body, headers=headers)
        last[:] = [response]
        assert response.status_code in (status, 409), response.text
        return response.json() if response.status_code == status else None

    return await eventually(attempt, timeout=timeout, message=lambda: f"still refused: {last[0].text}")


def plan_application(supervising, implementing, sending):
    return {
        "trainee_id": str(uuid4()),
        "trainee": {
            "name": "Pham Thi Lan",
            "date_of_birth": "2003-02-11",
            "nationality": "VN",
            "passport_number": "C9876543",
        },
        "stage": "i",
        "training_type": "b",
        "job_category": "construction",
        "implementing_organization_id": implementing,
        "supervising_organization_id": supervising,
        "sending_organization_id": sending,
        "start_date": "2027-02-05",
        "end_date": "2028-02-04",
        "monthly_wage": 215_000,
        "comparable_japanese_wage": 210_000,
        "applied_on": "2026-10-01",
    }


async def test_a_permit_a_certified_plan_a_coe_and_a_visa_then_a_revocation_revokes_the_unused_coe(services, token):
    registry, accreditation, visa = services
    otit, immigration = token("otit", subject="officer-mori"), token("immigration", subject="officer-kimura")

    # The registry: a permit granted, a member implementing organization, a sending organization and an agreement.
    partners = await registered_partners(registry, otit)
    supervising, implementing, sending = partners.supervising, partners.implementing, partners.sending

    # Accreditation: two trainees' stage-i plans, certified once it has heard of all that from titp.registry.v1.
    plans = []
    for _ in range(2):
        plan = (await post(accreditation, PLANS, plan_application(supervising, implementing, sending), otit, 201))["id"]
        await once_accepted(accreditation, f"{PLANS}/{plan}/certify", {"certified_on": "2026-10-15"}, otit)
        plans.append(plan)
    with_visa, without_visa = plans

    # The visa service: once it has heard of the certified plans, a COE for each; a visa on the first.
    coes = []
    for plan in plans:
        coe = (await once_accepted(visa, COE, {"training_plan_id": plan, "applied_on": day(-10)}, immigration, 201))[
            "id"
        ]
        await post(visa, f"{COE}/{coe}/issue", {"issued_on": day(0)}, immigration)
        coes.append(coe)
    used, unused = coes
    issued = await post(
        visa, "/v1/visas", {"coe_id": used, "post": "Embassy of Japan in Hanoi", "issued_on": day(1)}, immigration, 201
    )
    shown = (await visa.get(f"/v1/visas/{issued['id']}", headers=immigration)).json()
    assert (shown["training_plan_id"], shown["period_of_stay_months"]) == (with_visa, 12)

    # Accreditation revokes both plans (Art. 16).
    for plan in plans:
        await post(
            accreditation,
            f"{PLANS}/{plan}/revoke",
            {"revoked_on": "2026-11-20", "reason": "falsified wage records"},
            otit,
        )
    [revocation] = [
        e
        for e in (await accreditation.get(f"/v1/audit/streams/{without_visa}", headers=token("auditor"))).json()[
            "events"
        ]
        if e["type"] == "titp.accreditation.TrainingPlanRevoked.v1"
    ]

    async def revoked():
        body = (await visa.get(f"{COE}/{unused}", headers=immigration)).json()
        return body if body["status"] == "revoked" else None

    # Check: within seconds the unused COE is revoked, caused by accreditation's event; the used one stays used.
    body = await eventually(revoked, timeout=10, message="the revocation never reached the visa service")
    assert (body["revoked_on"], body["withdrawal_reason"]) == ("2026-11-20", "falsified wage records")
    history = (await visa.get(f"/v1/audit/streams/{unused}", headers=token("auditor"))).json()["events"]
    assert history[-1]["type"] == "titp.visa.CoeRevoked.v1" and history[-1]["causationid"] == revocation["id"]
    assert (await visa.get(f"{COE}/{used}", headers=immigration)).json()["status"] == "used"
    refused = await visa.post(
        "/v1/visas",
        json={"coe_id": unused, "post": "Embassy of Japan in Hanoi", "issued_on": day(2)},
        headers=immigration,
    )
    assert (refused.status_code, refused.json()["rule"]) == (409, "visa.coe_revoked")
