"""The public disclosure of administrative actions (DOMAIN §2), against the real stack: officers act on
permits over REST, an inspection's referral revokes one over Kafka, and anyone reads the list without a token,
as JSON or CSV, with nothing personal in it."""

import csv
import io

from tests.helpers import eventually, post
from tests.helpers import permit_application as application

PUBLIC = "/v1/public/administrative-actions"
SO = "/v1/supervising-organizations"
WAIT = 30  # seconds for an effect to cross Kafka into another service

# What the applications, the officers and the inspector wrote that must never be published.
PERSONAL = {
    "representative": "Yamada Taro",
    "address": "1-1 Sakae, Naka-ku, Nagoya",
    "supervision_manager": "Suzuki Hanako",
    "external_auditor": "Tanaka Ichiro Law Office",
    "order_reason": "trainee Nguyen Van An was not paid overtime",
    "suspension_part": "acceptance at the Kobe office of manager Kimura Jun",
    "suspension_reason": "Kimura Jun kept the trainees' passports",
    "revocation_reason": "Sato Ken confiscated residence cards",
}


async def test_anyone_reads_the_administrative_actions_newest_first_as_json_or_csv_with_nothing_personal(
    start_service, token
):
    registry = await start_service("registry")
    inspection = await start_service("inspection")
    officer, inspector = token("otit", subject="officer-ito"), token("otit", subject="inspector-kato")
    offices = [
        {"name": "Head office", "address": PERSONAL["address"], "supervision_manager": PERSONAL["supervision_manager"]}
    ]

    # Two cooperatives with permits, one in Aichi, one in Osaka.
    aichi = (
        await post(
            registry,
            SO,
            application(
                name="Aichi Kensetsu Cooperative",
                corporate_number="7180005001234",
                prefecture="Aichi",
                address=PERSONAL["address"],
                representative=PERSONAL["representative"],
                supervising_offices=offices,
                external_auditor=PERSONAL["external_auditor"],
                applied_on="2024-02-01",
            ),
            officer,
            201,
        )
    )["id"]
    await post(
        registry,
        f"{SO}/{aichi}/grant",
        {"permit_type": "general", "granted_on": "2024-04-01", "meets_excellence_standard": True},
        officer,
    )
    osaka = (
        await post(
            registry,
            SO,
            application(
                name="Naniwa Business Cooperative",
                corporate_number="8120005009876",
                prefecture="Osaka",
                requested_permit_type="specified",
                applied_on="2024-05-01",
            ),
            officer,
            201,
        )
    )["id"]
    await post(registry, f"{SO}/{osaka}/grant", {"permit_type": "specified", "granted_on": "2024-07-01"}, officer)

    # Officers act on them over REST: an improvement order and a downgrade in Aichi, a suspension in Osaka.
    await post(
        registry,
        f"{SO}/{aichi}/improvement-orders",
        {"issued_on": "2025-06-10", "deadline": "2025-09-10", "reason": PERSONAL["order_reason"]},
        officer,
    )
    await post(registry, f"{SO}/{aichi}/downgrade", {"effective_on": "2025-10-01"}, officer)
    await post(
        registry,
        f"{SO}/{osaka}/suspend",
        {
            "from_date": "2026-01-15",
            "until_date": "2026-04-14",
            "scope": "part",
            "part": PERSONAL["suspension_part"],
            "reason": PERSONAL["suspension_reason"],
            "ground": "law_breached",
        },
        officer,
    )

    # An inspection of the Aichi cooperative refers it for revocation; the registry revokes over Kafka.
    async def first_inspection():
        items = (await inspection.get("/v1/inspections", params={"target_id": aichi}, headers=inspector)).json()
        return items["items"][0]["id"] if items["items"] else None

    inspection_id = await eventually(first_inspection, timeout=WAIT, message="the permit never scheduled one")
    await post(
        inspection,
        f"/v1/inspections/{inspection_id}/complete",
        {
            "inspected_on": "2026-02-20",
            "inspector": "Kato Ken",
            "outcome": "referral",
            "findings": [
                {
                    "code": "passport_or_residence_card_kept",
                    "legal_breach": True,
                    "description": PERSONAL["revocation_reason"],
                }
            ],
            "referral": {
                "action": "permit_revocation",
                "reason": PERSONAL["revocation_reason"],
                "ground": "law_breached",
            },
        },
        inspector,
    )

    async def disclosed(count: int):
        response = await registry.get(PUBLIC)  # no token
        assert response.status_code == 200, response.text
        return response if len(response.json()["items"]) == count else None

    response = await eventually(lambda: disclosed(4), timeout=WAIT, message="the revocation was never disclosed")

    # Check: newest first, each with the organization, the action, its date, provision and ground.
    items = response.json()["items"]
    assert [(i["action"], i["action_date"], i["prefecture"]) for i in items] == [
        ("revocation", "2026-02-20", "23"),  # applied for as "Aichi" and "Osaka": published as JIS codes
        ("suspension", "2026-01-15", "27"),
        ("downgrade", "2025-10-01", "23"),
        ("improvement_order", "2025-06-10", "23"),
    ]
    revocation, suspension, downgrade, order = items
    assert {
        k: revocation[k]
        for k in (
            "supervising_organization_id",
            "name",
            "corporate_number",
            "legal_basis",
            "until_date",
            "scope",
            "deadline",
        )
    } == {
        "supervising_organization_id": aichi,
        "name": "Aichi Kensetsu Cooperative",
        "corporate_number": "7180005001234",
        "legal_basis": "Art. 37(1)(iv)",
        "until_date": None,
        "scope": None,
        "deadline": None,
    }
    assert "breached" in revocation["ground"]
    assert (suspension["legal_basis"], suspension["until_date"], suspension["scope"]) == (
        "Art. 37(3)",
        "2026-04-14",
        "part",
    )
    assert (order["legal_basis"], order["deadline"]) == ("Art. 36", "2025-09-10")
    assert downgrade["legal_basis"] == "Art. 37(2)" and "general permit" in downgrade["ground"]
    assert "was breached" in suspension["ground"] and "(Art. 37(1)(iv))" in suspension["ground"]
    assert {(i["organization_type"], i["organization_id"]) for i in items} == {
        ("supervising_organization", aichi),
        ("supervising_organization", osaka),
    }

    # Check: nothing personal, nor anything an officer wrote in their own words.
    for field, text in PERSONAL.items():
        assert text not in response.text, field

    # Check: filters by date range, prefecture and action; pages newest first.
    async def listed(**params) -> list[tuple[str, str]]:
        answer = await registry.get(PUBLIC, params=params)
        assert answer.status_code == 200, answer.text
        return [(i["action"], i["action_date"]) for i in answer.json()["items"]]

    for osaka_prefecture in ("Osaka", "27", "大阪府", "osaka"):
        assert await listed(prefecture=osaka_prefecture) == [("suspension", "2026-01-15")]
    assert await listed(**{"from": "2025-10-01", "to": "2026-01-31"}) == [
        ("suspension", "2026-01-15"),
        ("downgrade", "2025-10-01"),
    ]
    assert await listed(action="revocation", prefecture="Aichi") == [("revocation", "2026-02-20")]
    first_page = (await registry.get(PUBLIC, params={"limit": 3})).json()
    second_page = (await registry.get(PUBLIC, params={"limit": 3, "cursor": first_page["next_cursor"]})).json()
    assert first_page["items"] + second_page["items"] == items and second_page["next_cursor"] is None

    # Check: the same as CSV, by parameter or by content negotiation, every match on one page.
    for answer in (
        await registry.get(PUBLIC, params={"format": "csv", "limit": 1}),
        await registry.get(PUBLIC, headers={"accept": "text/csv"}),
    ):
        assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(answer.text)))
        assert [(r["action"], r["action_date"], r["name"], r["until_date"]) for r in rows] == [
            (i["action"], i["action_date"], i["name"], i["until_date"] or "") for i in items
        ]
        assert not any(text in answer.text for text in PERSONAL.values())

    # Check: bad input is a 422 naming the parameter.
    for params, field in (
        ({"from": "2026-13-01"}, "query.from"),
        ({"from": "2026-02-01", "to": "2026-01-01"}, "query.to"),
        ({"cursor": "not-a-cursor"}, "query.cursor"),
        ({"format": "xml"}, "query.format"),
        ({"action": "fine"}, "query.action"),
        ({"prefecture": "Atlantis"}, "query.prefecture"),
    ):
        answer = await registry.get(PUBLIC, params=params)
        assert answer.status_code == 422 and answer.headers["content-type"] == "application/problem+json"
        assert [e["field"] for e in answer.json()["errors"]] == [field], answer.text

    # Check: the back office's statistics count the same actions, per fiscal year; they need a role.
    statistics = await registry.get(
        "/v1/statistics/administrative-actions",
        headers=token("auditor"),
        params={"from_fiscal_year": 2024, "to_fiscal_year": 2025},
    )
    assert statistics.json()["fiscal_years"] == [
        {
            "fiscal_year": 2024,
            "from": "2024-04-01",
            "to": "2025-03-31",
            "revocations": 0,
            "suspensions": 0,
            "downgrades": 0,
            "improvement_orders": 0,
        },
        {
            "fiscal_year": 2025,
            "from": "2025-04-01",
            "to": "2026-03-31",
            "revocations": 1,
            "suspensions": 1,
            "downgrades": 1,
            "improvement_orders": 1,
        },
    ]
    permits = await registry.get("/v1/statistics/permits", headers=officer)
    assert permits.json() == {"prefecture": None, "total": 2, "permits": {"specified": {"active": 1, "revoked": 1}}}
    assert (await registry.get("/v1/statistics/permits")).status_code == 401
    cooperative = token("supervising_org", org=aichi)
    assert (await registry.get("/v1/statistics/permits", headers=cooperative)).status_code == 403
