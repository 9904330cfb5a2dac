"""ESD plans over REST against the real PostgreSQL and Kafka (the registry's events from its topic): exam results,
the first-year flag as of a day, an ESD permit's revocation, statistics by scheme, roles and organization binding.
The cohort across the switch is tests/e2e/test_switch_story.py."""

from datetime import date
from uuid import uuid4

from contracts.registry import PermitRevoked, registry_events
from tests.e2e.test_switch_story import accreditation, esd, registry_of  # noqa: F401  (fixtures)
from tests.helpers import eventually, post
from tests.integration.test_accreditation_service import PLANS, upstream  # noqa: F401  (fixtures)


async def test_exam_results_the_first_year_flag_a_revoked_esd_permit_and_statistics_by_scheme(
    accreditation,  # noqa: F811
    upstream,  # noqa: F811
    token,
):
    client, officer = accreditation.client, token("otit")
    store = await upstream(registry_events)
    r = await registry_of(store, accreditation)
    worker, other = str(uuid4()), str(uuid4())
    ids = []
    for trainee in (worker, other):
        id = await post(
            client, PLANS, esd(r, trainee, "agriculture", r.aichi, "2027-04-01", "2030-03-31"), officer, 201
        )
        ids.append(id["id"])
        await post(client, f"{PLANS}/{id['id']}/certify", {"certified_on": "2026-11-15"}, officer)

    # Exam results: by an officer only, for a trainee with a plan, each once.
    result = {"trainee_id": worker, "grade": "basic", "result": "passed", "taken_on": "2028-01-20"}
    employer = token("implementing_org", org=str(r.aichi))
    assert (await client.post("/v1/exam-results", json=result, headers=employer)).status_code == 403
    unknown = await client.post("/v1/exam-results", json={**result, "trainee_id": str(uuid4())}, headers=officer)
    assert unknown.status_code == 404
    assert (await post(client, "/v1/exam-results", result, officer))["id"] == worker
    again = await client.post("/v1/exam-results", json=result, headers=officer)
    assert again.status_code == 409 and again.json()["rule"] == "exam_result.already_recorded"
    wrong = await client.post("/v1/exam-results", json={**result, "result": "not_taken"}, headers=officer)
    assert wrong.status_code == 422

    # Check: the flag as of the day after the first year, by id (now and as of that day) and in lists.
    for id, flagged in zip(ids, (False, True), strict=True):
        then = (await client.get(f"{PLANS}/{id}", params={"as_of": "2028-04-01"}, headers=officer)).json()
        assert then["first_year_exams_missing"] is flagged and then["status"] == "in_progress"
        now = (await client.get(f"{PLANS}/{id}", headers=officer)).json()
        assert now["first_year_exams_missing"] is False and now["status"] == "certified"
    listed = await client.get(
        PLANS, params={"first_year_exams_missing": "true", "on": "2028-04-01", "scheme": "esd"}, headers=employer
    )
    assert [p["id"] for p in listed.json()["items"]] == [ids[1]]

    # Check: statistics count the plans by scheme.
    counts = await client.get(
        "/v1/statistics/plans-certified",
        params={"from": "2026-11", "to": "2026-11", "by": "scheme"},
        headers=token("auditor"),
    )
    assert counts.json()["months"][0]["counts"] == {"esd": 2}
    by_stage = await client.get(
        "/v1/statistics/plans-certified",
        params={"from": "2026-11", "to": "2026-11", "stage": "none", "scheme": "esd"},
        headers=officer,
    )
    assert by_stage.json()["months"][0]["total"] == 2

    # The ESD permit revoked: the plans in force under it are flagged, and no new one is certified.
    await store.append(
        r.support, PermitRevoked(revoked_on=date(2026, 11, 30), ground="law_breached", reason="passports kept")
    )
    flagged = await eventually(
        lambda: _flagged(client, officer, r.support),
        timeout=30,
        message="the revocation never flagged the ESD plans",
    )
    assert sorted(flagged) == sorted(ids)
    pending = await post(
        client, PLANS, esd(r, str(uuid4()), "fishery", r.aichi, "2027-04-01", "2030-03-31"), officer, 201
    )
    refused = await client.post(
        f"{PLANS}/{pending['id']}/certify", json={"certified_on": "2026-12-01"}, headers=officer
    )
    assert refused.status_code == 409 and refused.json()["rule"] == "esd.supervision_support_permit"

    # Check: who reads the fields: filers and auditors, with a token.
    assert (await client.get("/v1/esd/fields")).status_code == 401
    assert (await client.get("/v1/esd/fields", headers=token("auditor"))).status_code == 200
    assert (await client.get("/v1/esd/fields", params={"fiscal_year": 1}, headers=employer)).status_code == 422


async def _flagged(client, officer, support) -> list[str] | None:
    page = (
        await client.get(
            PLANS,
            params={"needs_new_supervising_organization": "true", "supervising_organization_id": str(support)},
            headers=officer,
        )
    ).json()
    return [p["id"] for p in page["items"]] if len(page["items"]) == 2 else None
