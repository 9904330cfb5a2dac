"""Organization binding on every filing (issue 18, item 3), against the real registry and accreditation services,
Kafka and PostgreSQL: accreditation learns from `titp.registry.v1` which employers belong to which supervising
(TITP) or supervision support (ESD) organization, and a token's organization files only within that.

- A supervising organization files only for its own member employers; an employer only under its own supervising
  organization; the same under ESD with supervision support organizations; a direct-hire (type a) employer's plans
  only by itself. Anything else is 404 as not found, naming the rule, whether the other organization exists or not.
- A trainee id stays with the person its first application named: another person under it is refused (409
  `trainee.identity`); after the trainee's erasure any filing under the id gets that same answer, which names no one
  and says nothing of the erasure.
"""

import asyncio
from uuid import uuid4

import asyncpg
import pytest

from tests.helpers import corporate_number, eventually, grant, permit_application, post, sending_approval

SO, SSO, IO = "/v1/supervising-organizations", "/v1/supervision-support-organizations", "/v1/implementing-organizations"
PLANS = "/v1/training-plans"
A_TRAINEE = {"name": "Nguyen Van An", "date_of_birth": "2001-05-01", "nationality": "VN", "passport_number": "C1234567"}
NOT_FOUND = "https://titp.example/problems/not-found"


@pytest.fixture
async def services(start_service):
    return await start_service("registry"), await start_service("accreditation")


async def fetchval(client, query: str, *args):
    conn = await asyncpg.connect(client._transport.app.state.settings.database_url)
    try:
        return await conn.fetchval(query, *args)
    finally:
        await conn.close()


async def side(registry, otit: dict, city: str, sending: str) -> dict[str, str]:
    """One side's organizations, through the registry's REST API: a TITP supervising organization with a permit,
    its member employer (type b), which a supervision support organization supports under ESD from 2027-04-01,
    and a direct-hire (type a) employer."""
    supervising = (await post(registry, SO, permit_application(name=f"{city} Cooperative"), otit, 201))["id"]
    await post(registry, f"{SO}/{supervising}/grant", grant(), otit)
    await post(
        registry,
        f"{SO}/{supervising}/sending-agreements",
        {"sending_organization_id": sending, "signed_on": "2026-05-15"},
        otit,
        201,
    )

    def employer(training_type: str, name: str) -> dict:
        return {
            "name": name,
            "corporate_number": corporate_number(),
            "address": f"1-1 {city}",
            "prefecture": "Aichi",
            "industry": "agriculture",
            "training_type": training_type,
            "supervising_organization_id": supervising if training_type == "b" else None,
            "full_time_staff": 60,
            "staff_as_of": "2026-04-01",
            "excellent": False,
            "registered_on": "2026-05-10",
        }

    implementing = (await post(registry, IO, employer("b", f"{city} Farm"), otit, 201))["id"]
    direct = (await post(registry, IO, employer("a", f"{city} Direct Hire"), otit, 201))["id"]
    support = (
        await post(
            registry,
            SSO,
            {
                "name": f"{city} Cooperative (ESD)",
                "corporate_number": corporate_number(),
                "address": f"1-1 {city}",
                "prefecture": "Aichi",
                "representative": "Yamada Taro",
                "offices": [{"name": "Head office", "address": f"1-1 {city}", "supervision_manager": "Suzuki"}],
                "job_categories": ["agriculture"],
                "non_profit": True,
                "external_auditor": "Tanaka Law Office",
                "full_time_staff": 3,
                "member_employers": 12,
                "workers": 90,
                "applied_on": "2026-06-01",
            },
            otit,
            201,
        )
    )["id"]
    await post(registry, f"{SSO}/{support}/grant", {"granted_on": "2026-09-01", "excellent": False}, otit)
    await post(
        registry,
        f"{IO}/{implementing}/supervision",
        {"supervising_organization_id": support, "scheme": "esd", "from": "2027-04-01"},
        otit,
    )
    return {"supervising": supervising, "implementing": implementing, "direct": direct, "support": support}


@pytest.fixture
async def world(services, token):
    """Sides A and B, each with its organizations, once accreditation has heard of all of them from the registry."""
    registry, accreditation = services
    otit = token("otit")
    sending = (
        await post(
            registry,
            "/v1/sending-organizations",
            sending_approval(approval_reference="DOLAB-1"),
            otit,
            201,
        )
    )["id"]
    sides = {city: await side(registry, otit, city, sending) for city in ("Nagoya", "Naha")}
    employers = [s[k] for s in sides.values() for k in ("implementing", "direct")]
    await eventually(
        lambda: fetchval(
            accreditation,
            "SELECT count(*) = $2 FROM registry_implementing_organizations WHERE id = ANY($1::uuid[])"
            " AND (training_type = 'a' OR esd_supervising_organization_id IS NOT NULL)",
            employers,
            len(employers),
        ),
        timeout=30,
        message="the registry's events never reached accreditation",
    )
    a, b = sides["Nagoya"], sides["Naha"]
    return {"A": a | {"sending": sending}, "B": b | {"sending": sending}}


def titp(side: dict, **changes) -> dict:
    """A TITP stage-i plan of type (b) under the side's supervising organization."""
    return {
        "trainee_id": str(uuid4()),
        "trainee": A_TRAINEE,
        "stage": "i",
        "training_type": "b",
        "job_category": "crop farming",
        "implementing_organization_id": side["implementing"],
        "supervising_organization_id": side["supervising"],
        "sending_organization_id": side["sending"],
        "start_date": "2026-11-01",
        "end_date": "2027-10-31",
        "monthly_wage": 215_000,
        "comparable_japanese_wage": 210_000,
        "applied_on": "2026-06-20",
        **changes,
    }


def esd(side: dict, **changes) -> dict:
    """An ESD plan of type (b) under the side's supervision support organization."""
    return (
        titp(
            side,
            scheme="esd",
            stage=None,
            field="agriculture",
            supervising_organization_id=side["support"],
            start_date="2027-04-01",
            end_date="2030-03-31",
            exams_passed=[{"grade": "japanese_a1", "passed_on": "2026-08-01"}],
            applied_on="2026-10-01",
        )
        | changes
    )


def direct(side: dict, **changes) -> dict:
    """A direct-hire (type a) plan: no supervising or sending organization."""
    return (
        titp(
            side,
            training_type="a",
            implementing_organization_id=side["direct"],
            supervising_organization_id=None,
            sending_organization_id=None,
        )
        | changes
    )


async def listed(client, headers: dict) -> list[str]:
    return sorted(p["id"] for p in (await client.get(PLANS, params={"limit": 500}, headers=headers)).json()["items"])


async def test_an_organization_files_only_for_its_own_employers_under_its_own_supervisor(world, services, token):
    _, accreditation = services
    a, b = world["A"], world["B"]
    as_a = {
        "supervising": token("supervising_org", org=a["supervising"]),
        "support": token("supervising_org", org=a["support"]),
        "implementing": token("implementing_org", org=a["implementing"]),
        "direct": token("implementing_org", org=a["direct"]),
    }
    b_supervising, b_support = (
        token("supervising_org", org=b["supervising"]),
        token("supervising_org", org=b["support"]),
    )
    b_employer, b_direct = token("implementing_org", org=b["implementing"]), token("implementing_org", org=b["direct"])
    nobody = str(uuid4())
    attacks = [
        # (who, what they file, the organization they are told is not found, the rule)
        ("TITP: supervising B for A's employer", b_supervising, titp(a, supervising_organization_id=b["supervising"]),
         ("implementing organization", a["implementing"]), "filing.member_employer"),
        ("TITP: supervising B for an employer never registered", b_supervising,
         titp(a, implementing_organization_id=nobody, supervising_organization_id=b["supervising"]),
         ("implementing organization", nobody), "filing.member_employer"),
        ("TITP: employer B under A's supervising organization", b_employer,
         titp(a, implementing_organization_id=b["implementing"]),
         ("supervising organization", a["supervising"]), "filing.own_supervising_organization"),
        ("ESD: support B for A's employer", b_support, esd(a, supervising_organization_id=b["support"]),
         ("implementing organization", a["implementing"]), "filing.member_employer"),
        ("ESD: employer B under A's support organization", b_employer,
         esd(a, implementing_organization_id=b["implementing"]),
         ("supervision support organization", a["support"]), "filing.own_supervising_organization"),
        ("ESD: employer B under its TITP supervisor, not its ESD supporter", b_employer,
         esd(b, supervising_organization_id=b["supervising"]),
         ("supervision support organization", b["supervising"]), "filing.own_supervising_organization"),
        ("ESD: B's TITP supervisor for B's employer, as if its ESD supporter", b_supervising,
         esd(b, supervising_organization_id=b["supervising"]),
         ("implementing organization", b["implementing"]), "filing.member_employer"),
        ("direct hire: supervising B for A's direct-hire employer", b_supervising, direct(a),
         ("implementing organization", a["direct"]), "filing.own_organization"),
        ("direct hire: employer B for A's direct-hire employer", b_direct, direct(a),
         ("implementing organization", a["direct"]), "filing.own_organization"),
    ]  # fmt: skip
    before = {who: await listed(accreditation, headers) for who, headers in as_a.items()}
    events = await fetchval(accreditation, "SELECT count(*) FROM events")

    for why, headers, body, (resource, id), rule in attacks:
        refused = await accreditation.post(PLANS, json=body, headers=headers)
        # Check: refused as not found, naming the rule and the organization it may not file for, and nothing more.
        assert refused.status_code == 404, (why, refused.text)
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json() == {
            "type": NOT_FOUND,
            "title": "Not Found",
            "status": 404,
            "detail": f"{resource} {id} not found",
            "resource": resource,
            "id": id,
            "rule": rule,
        }, why

    # Check: nothing was recorded, and A's lists are as they were.
    assert await fetchval(accreditation, "SELECT count(*) FROM events") == events
    assert {who: await listed(accreditation, headers) for who, headers in as_a.items()} == before

    # Check: the filings A's organizations are entitled to succeed, and A sees them.
    filed = {
        "titp by the employer": await post(accreditation, PLANS, titp(a), as_a["implementing"], 201),
        "titp by the supervising organization": await post(accreditation, PLANS, titp(a), as_a["supervising"], 201),
        "esd by the employer": await post(accreditation, PLANS, esd(a), as_a["implementing"], 201),
        "esd by the support organization": await post(accreditation, PLANS, esd(a), as_a["support"], 201),
        "direct hire by the employer": await post(accreditation, PLANS, direct(a), as_a["direct"], 201),
        "b's own": await post(accreditation, PLANS, titp(b), b_supervising, 201),
    }
    ids = {why: answer["id"] for why, answer in filed.items()}
    assert await listed(accreditation, as_a["implementing"]) == sorted(
        ids[k] for k in ("titp by the employer", "titp by the supervising organization", "esd by the employer",
                         "esd by the support organization")
    )  # fmt: skip
    assert await listed(accreditation, as_a["supervising"]) == sorted(
        ids[k] for k in ("titp by the employer", "titp by the supervising organization")
    )
    assert await listed(accreditation, as_a["support"]) == sorted(
        ids[k] for k in ("esd by the employer", "esd by the support organization")
    )
    assert await listed(accreditation, as_a["direct"]) == [ids["direct hire by the employer"]]
    # Officers are not bound to an organization: they file for anyone (certification checks membership).
    await post(accreditation, PLANS, titp(a), token("otit"), 201)


async def test_a_trainee_id_stays_with_its_first_identity_and_an_erasure_tells_nothing(world, services, token):
    _, accreditation = services
    a, b = world["A"], world["B"]
    a_employer, b_employer = (
        token("implementing_org", org=a["implementing"]),
        token("implementing_org", org=b["implementing"]),
    )
    admin = token("admin", subject="dpo-sato")

    # A's trainee, and a trainee of B's own.
    trainee = str(uuid4())
    first = (await post(accreditation, PLANS, titp(a, trainee_id=trainee), a_employer, 201))["id"]
    own = (await post(accreditation, PLANS, titp(b, trainee={**A_TRAINEE, "name": "Le Thi Hoa"}), b_employer, 201))[
        "id"
    ]
    b_before, events = (
        await listed(accreditation, b_employer),
        await fetchval(accreditation, "SELECT count(*) FROM events"),
    )

    # B files under A's trainee id with another person's data: another name, or another date of birth.
    mismatches = []
    for other in ({"name": "Tran Van Binh"}, {"date_of_birth": "1999-01-01"}, {"nationality": "PH"}):
        refused = await accreditation.post(
            PLANS, json=titp(b, trainee_id=trainee, trainee={**A_TRAINEE, **other}), headers=b_employer
        )
        # Check: refused with the rule named; the answer names no one.
        assert refused.status_code == 409, refused.text
        assert refused.json()["rule"] == "trainee.identity"
        assert not any(str(v) in refused.text for v in (*A_TRAINEE.values(), *other.values()) if v != "VN")
        mismatches.append(refused.json())
    # ... an officer is bound by it too.
    by_officer = await accreditation.post(
        PLANS, json=titp(a, trainee_id=trainee, trainee={**A_TRAINEE, "name": "Tran Van Binh"}), headers=token("otit")
    )
    assert by_officer.status_code == 409 and by_officer.json() == mismatches[0]
    # Check: nothing recorded; B's list unchanged.
    assert await fetchval(accreditation, "SELECT count(*) FROM events") == events
    assert await listed(accreditation, b_employer) == b_before

    # The same person again is fine: the name retyped in other case and spacing, a renewed passport.
    same = {**A_TRAINEE, "name": "  NGUYEN  van an ", "passport_number": "C7654321"}
    again = (await post(accreditation, PLANS, titp(a, trainee_id=trainee, trainee=same), a_employer, 201))["id"]

    # Two first applications under one new id at once, for two people: one is recorded, the other refused.
    racing = str(uuid4())
    bodies = [titp(a, trainee_id=racing, trainee=A_TRAINEE | {"name": name}) for name in ("Pham Van Cuong", "Do Lan")]
    answers = await asyncio.gather(*(accreditation.post(PLANS, json=body, headers=a_employer) for body in bodies))
    assert sorted(answer.status_code for answer in answers) == [201, 409], [answer.text for answer in answers]

    # The trainee's data is erased.
    erased = await accreditation.post(f"/v1/trainees/{trainee}/erase", json={"reason": "request"}, headers=admin)
    assert erased.status_code == 200, erased.text
    # Check: only that trainee's: A's plans for them are erased, B's own trainee is readable.
    for plan in (first, again):
        assert (await accreditation.get(f"{PLANS}/{plan}", headers=a_employer)).json()["trainee"][
            "personal_data_erased"
        ]
    mine = (await accreditation.get(f"{PLANS}/{own}", headers=b_employer)).json()["trainee"]
    assert (mine["name"], mine["personal_data_erased"]) == ("Le Thi Hoa", False)
    assert await fetchval(accreditation, "SELECT count(*) FROM trainee_identities WHERE trainee_id = $1", trainee) == 0

    # Check: a later filing under the erased id, the same person or another, by B or by A, gets the answer any
    # other person under a bound id gets: no name, nothing of the erasure.
    events = await fetchval(accreditation, "SELECT count(*) FROM events")
    for headers, side_, person in (
        (b_employer, b, {**A_TRAINEE, "name": "Tran Van Binh"}),
        (b_employer, b, A_TRAINEE),
        (a_employer, a, A_TRAINEE),
    ):
        refused = await accreditation.post(PLANS, json=titp(side_, trainee_id=trainee, trainee=person), headers=headers)
        assert (refused.status_code, refused.json()) == (409, mismatches[0]), refused.text
        assert "erase" not in refused.text
    assert await fetchval(accreditation, "SELECT count(*) FROM events") == events
