"""A trainee recorded before trainee ids were bound to an identity (issue 18; migration 007) is bound, at their next
application, to the personal data of their first application on record, opened with their key; against the real
PostgreSQL. The binding of new trainees and the erasure: tests/e2e/test_organization_binding.py."""

from uuid import uuid4

from tests.helpers import post
from tests.integration.test_accreditation_service import (  # noqa: F401  (fixtures)
    PLANS,
    accreditation,
    application,
    registry,
    upstream,
)


async def test_a_trainee_recorded_before_the_binding_is_bound_to_their_first_application(
    accreditation,  # noqa: F811
    registry,  # noqa: F811
    token,
):
    client, officer = accreditation.client, token("otit")
    orgs = await registry.organizations(accreditation)
    trainee = str(uuid4())
    await post(client, PLANS, application(orgs, trainee_id=trainee), officer, 201)
    # As recorded before the binding existed: the key and the plan, no fingerprint.
    async with accreditation.pool.acquire() as conn:
        assert await conn.execute("DELETE FROM trainee_identities WHERE trainee_id = $1", trainee) == "DELETE 1"

    other = application(orgs, trainee_id=trainee, stage="ii", start_date="2027-04-01", end_date="2028-03-31")
    other["trainee"] = {**other["trainee"], "name": "Tran Van Binh"}
    refused = await client.post(PLANS, json=other, headers=officer)
    # Check: another person under the id is refused, by the first application's data, not by the first come now.
    assert (refused.status_code, refused.json()["rule"]) == (409, "trainee.identity"), refused.text
    assert await accreditation.fetchval("SELECT count(*) FROM trainee_identities WHERE trainee_id = $1", trainee) == 0
    same = {**other, "trainee": application(orgs)["trainee"]}
    await post(client, PLANS, same, officer, 201)
    assert await accreditation.fetchval("SELECT count(*) FROM trainee_identities WHERE trainee_id = $1", trainee) == 1
