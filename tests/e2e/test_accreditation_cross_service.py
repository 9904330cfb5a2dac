"""Across services, over REST and Kafka only: what the registry decides, accreditation learns from
titp.registry.v1 and certifies by.

A permit granted in the registry makes a plan certifiable here; the permit revoked there flags
the plans in force here and refuses the next certification.
"""

from uuid import uuid4

import pytest

from services.accreditation.app import create_app as create_accreditation
from services.registry.app import create_app as create_registry
from tests.helpers import eventually, group_at_end, post, registered_partners
from tests.integration.test_accreditation_service import (  # noqa: F401  (fixtures)
    INSPECTION_TOPIC,
    PLANS,
    REGISTRY_TOPIC,
    Service,
)


@pytest.fixture
async def services(fresh_database, another_database, service_settings, run_service, kafka_bootstrap, unique):
    """The registry and the accreditation service, each with its database and consumer group."""
    for name, topics in (("registry", [INSPECTION_TOPIC]), ("accreditation", [REGISTRY_TOPIC, INSPECTION_TOPIC])):
        await group_at_end(kafka_bootstrap, f"test-{name}-{unique}", topics)
    registry = await run_service(
        create_registry(
            service_settings(
                "registry", fresh_database, relay_poll_interval_s=0.2, consumer_group=f"test-registry-{unique}"
            )
        )
    )
    app = create_accreditation(
        service_settings(
            "accreditation",
            await another_database(),
            relay_poll_interval_s=0.2,
            consumer_group=f"test-accreditation-{unique}",
        )
    )
    return registry, Service(await run_service(app), app)


def plan_application(supervising: str, implementing: str, sending: str, **changes) -> dict:
    return {
        "trainee_id": changes.pop("trainee_id"),
        "trainee": {
            "name": "Tran Thi Binh",
            "date_of_birth": "2002-08-15",
            "nationality": "VN",
            "passport_number": "B7654321",
        },
        "stage": "i",
        "training_type": "b",
        "job_category": "construction",
        "operation": "construction.carpentry.building",
        "implementing_organization_id": implementing,
        "supervising_organization_id": supervising,
        "sending_organization_id": sending,
        "start_date": "2026-10-01",  # filed on 20 May: within its window (DOMAIN §11)
        "end_date": "2027-09-30",
        "monthly_wage": 215_000,
        "comparable_japanese_wage": 210_000,
        "applied_on": "2026-05-20",
        **changes,
    }


async def test_a_permit_granted_in_the_registry_makes_plans_certifiable_and_its_revocation_refuses_them(
    services, token
):
    registry, accreditation = services
    officer = token("otit", subject="officer-mori")
    so = "/v1/supervising-organizations"

    # The registry: a permit granted, a member implementing organization, an approved sending
    # organization and an agreement.
    partners = await registered_partners(registry, officer, permit_type="specified")
    supervising, implementing, sending, agreement = (
        partners.supervising,
        partners.implementing,
        partners.sending,
        partners.agreement,
    )

    # Check: accreditation learns all of it from titp.registry.v1 (never from the registry's database).
    await eventually(
        lambda: accreditation.fetchval(
            "SELECT (SELECT count(*) FROM registry_permits"
            " WHERE supervising_organization_id = $1 AND status = 'active')"
            " + (SELECT count(*) FROM registry_implementing_organizations WHERE id = $2)"
            " + (SELECT count(*) FROM registry_sending_organizations WHERE id = $3 AND approved)"
            " + (SELECT count(*) FROM registry_sending_agreements WHERE id = $4) = 4",
            supervising,
            implementing,
            sending,
            agreement,
        ),
        timeout=30,
        message="the registry's events never reached accreditation",
    )

    # Check: so a plan under that permit is certified here.
    client = accreditation.client
    parties = (supervising, implementing, sending)
    first = (await post(client, PLANS, plan_application(*parties, trainee_id=str(uuid4())), officer, 201))["id"]
    await post(client, f"{PLANS}/{first}/certify", {"certified_on": "2026-06-01"}, officer)
    assert (await client.get(f"{PLANS}/{first}", headers=officer)).json()["status"] == "in_progress"
    second = (await post(client, PLANS, plan_application(*parties, trainee_id=str(uuid4())), officer, 201))["id"]

    # The registry revokes the permit.
    await post(
        registry,
        f"{so}/{supervising}/revoke",
        {"revoked_on": "2026-11-01", "ground": "law_breached", "reason": "trainees' passports kept"},
        officer,
    )
    [revocation] = [
        e
        for e in (await registry.get(f"/v1/audit/streams/{supervising}", headers=token("auditor"))).json()["events"]
        if e["type"] == "titp.registry.PermitRevoked.v1"
    ]

    # Check: the certified plan is flagged as needing a new supervising organization ...
    async def flagged():
        body = (await client.get(f"{PLANS}/{first}", headers=officer)).json()
        return body if body["new_supervising_organization_required"] else None

    body = await eventually(flagged, timeout=30, message="the revocation never reached accreditation")
    assert body["new_supervising_organization_required"]["since"] == "2026-11-01"
    [flag] = (await client.get(f"/v1/audit/streams/{first}", headers=token("auditor"))).json()["events"][-1:]
    assert flag["type"] == "titp.accreditation.NewSupervisingOrganizationRequired.v1"
    assert flag["causationid"] == revocation["id"]

    # ... and the next certification under it is refused, naming the rule.
    refused = await client.post(f"{PLANS}/{second}/certify", json={"certified_on": "2026-11-02"}, headers=officer)
    assert refused.status_code == 409
    assert refused.json()["rule"] == "supervising_organization.permit_active"
    assert "revoked" in refused.json()["detail"]
