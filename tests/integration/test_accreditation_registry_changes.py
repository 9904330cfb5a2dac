"""Issue 19's registry changes as the accreditation service reads them from `titp.registry.v1`.

- Art. 32: `PermitTypeChanged` (specified -> general) makes the local permit general, so stage iii is no longer
  refused for the permit's type; delivered again, or older than a downgrade since, it changes nothing.
- Prefectures: the registry's events carry the JIS X 0401 code since issue 19 and the name before; the local view
  keeps the code, reads rows recorded before (names) as codes, and the statistics count a name and its code as one
  prefecture, filtered by either.
"""

from datetime import date
from uuid import uuid4

from contracts.registry import ImplementingOrganizationRegistered, PermitDowngraded, PermitTypeChanged
from tests.helpers import eventually, post
from tests.integration import test_accreditation_service as service
from tests.integration.test_accreditation_service import (
    PLANS,
    REGISTRY_TOPIC,
    application,
    certified_plan,
    corporate_number,
    redeliver,
)

# The fixtures of the accreditation service's integration tests: the service, and a registry publishing to its topic.
accreditation, registry, upstream = service.accreditation, service.registry, service.upstream


async def permit_type(accreditation, supervising) -> str:
    return await accreditation.fetchval(
        "SELECT permit_type || ' ' || coalesce(permit_type_as_of::text, '-') FROM registry_permits"
        " WHERE supervising_organization_id = $1",
        supervising,
    )


async def test_a_permit_type_change_to_general_lets_stage_iii_past_the_permit_check(
    accreditation, registry, token, kafka_bootstrap
):
    client, officer = accreditation.client, token("otit")
    orgs = await registry.organizations(accreditation, permit_type="specified")
    stage_iii = application(orgs, stage="iii", start_date="2026-10-01", end_date="2028-09-30", applied_on="2026-05-20")
    plan = (await post(client, PLANS, stage_iii, officer, 201))["id"]

    async def certify() -> str | None:
        response = await client.post(f"{PLANS}/{plan}/certify", json={"certified_on": "2026-06-01"}, headers=officer)
        assert response.status_code == 409, response.text
        return response.json()["rule"]

    # Before: a specified permit covers stages i and ii only.
    assert await certify() == "supervising_organization.permit_covers_stage"

    [change] = await registry.store.append(
        orgs.supervising,
        PermitTypeChanged(changed_on=date(2026, 4, 1), meets_excellence_standard=True, expires_on=date(2029, 2, 28)),
    )

    async def general():
        return await permit_type(accreditation, orgs.supervising) == "general 2026-04-01" or None

    await eventually(general, timeout=20, message="PermitTypeChanged never reached the local view")
    # Check: no longer refused for the permit (the stage iii plan now fails only on its own merits: here no
    # stage ii before it).
    assert (rule := await certify()) != "supervising_organization.permit_covers_stage", rule
    assert rule.startswith("previous_stage."), rule

    # Check: delivered again it changes nothing; an Art. 37(2) downgrade after it wins, and the same change seen
    # again after the downgrade does not undo it.
    await redeliver(kafka_bootstrap, REGISTRY_TOPIC, change)
    await eventually(lambda: accreditation.app.state.subscription.duplicates >= 1, timeout=20)
    assert await permit_type(accreditation, orgs.supervising) == "general 2026-04-01"
    await registry.store.append(orgs.supervising, PermitDowngraded(effective_on=date(2026, 9, 1)))
    stale = PermitTypeChanged(changed_on=date(2026, 4, 1), meets_excellence_standard=True, expires_on=date(2029, 2, 28))
    await registry.store.append(orgs.supervising, stale)

    async def downgraded():
        found = await permit_type(accreditation, orgs.supervising)
        return found if found.startswith("specified") else None

    assert await eventually(downgraded, timeout=20) == "specified 2026-09-01"
    await registry.store.append(
        orgs.supervising,
        PermitTypeChanged(changed_on=date(2026, 10, 1), meets_excellence_standard=True, expires_on=date(2029, 2, 28)),
    )

    async def general_again():
        return await permit_type(accreditation, orgs.supervising) == "general 2026-10-01" or None

    await eventually(general_again, timeout=20, message="a later change never made the permit general again")
    assert await certify() != "supervising_organization.permit_covers_stage"


async def test_prefectures_by_code_or_name_are_one_prefecture(accreditation, registry, token):
    client, officer, reader = accreditation.client, token("otit"), token("otit")
    orgs = await registry.organizations(accreditation)  # its implementing organization's event says "Aichi"
    coded = uuid4()
    await registry.store.append(
        coded,
        ImplementingOrganizationRegistered(
            name="Nagoya Foods",
            corporate_number=corporate_number(),
            address="1-1 Sakae",
            prefecture="23",
            industry="construction",
            training_type="b",
            supervising_organization_id=orgs.supervising,
            full_time_staff=40,
            staff_as_of=date(2024, 4, 1),
            excellent=False,
            registered_on=date(2024, 4, 1),
        ),
    )
    await eventually(
        lambda: accreditation.fetchval(
            "SELECT count(*) = 1 FROM registry_implementing_organizations WHERE id = $1", coded
        ),
        timeout=20,
    )
    # Check: both kept as the code.
    assert await accreditation.fetchval(
        "SELECT array_agg(prefecture ORDER BY prefecture) FROM registry_implementing_organizations"
        " WHERE id = ANY($1::uuid[])",
        [orgs.implementing, coded],
    ) == ["23", "23"]

    # A row recorded before issue 19 holds the name, and so does a plan counted under it then (one counted in
    # February 2026, as the statistics projection wrote it before).
    await accreditation.fetchval(
        "UPDATE registry_implementing_organizations SET prefecture = 'Aichi' WHERE id = $1 RETURNING 1",
        orgs.implementing,
    )
    await accreditation.fetchval(
        "INSERT INTO statistics_deltas (measure, period, dimensions, change)"
        " VALUES ('plans_certified', '2026-02-01', ARRAY['VN', 'construction', 'i', 'b', 'Aichi', 'titp'], 1)"
        " RETURNING 1"
    )
    await certified_plan(client, orgs, officer)  # read from the old row: counted under the code
    other = type(orgs)(orgs.supervising, coded, orgs.sending, orgs.agreement)
    await certified_plan(client, other, officer)

    async def certified(**params) -> dict:
        response = await client.get(
            "/v1/statistics/plans-certified", params={"from": "2026-02", "to": "2026-02", **params}, headers=reader
        )
        assert response.status_code == 200, response.text
        return response.json()

    for spelling in ("23", "Aichi", "愛知県", "aichi"):
        found = await certified(prefecture=spelling)
        assert (found["where"]["prefecture"], found["months"][0]["total"]) == ("23", 3), (spelling, found)
    assert (await certified(prefecture="13"))["months"][0]["total"] == 0
    by = await certified(by="prefecture")
    assert by["months"][0]["counts"] == {"23": 3}
