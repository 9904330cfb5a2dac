"""Program statistics against counts computed independently from a generated dataset.

`titp seed`'s seeder drives the real registry, accreditation and inspection services (REST, Kafka,
PostgreSQL) to build a dataset; every figure the statistics routes answer is then checked against
the same figure counted here from what the seeder meant to create (its blueprint) and what it did
(its record of the inspections it completed or left open).
"""

import os
from collections import Counter
from datetime import date, timedelta

from shared.dates import add_months, fiscal_year, last_day, month_start, quarter_start
from shared.web.http import today
from tests.helpers import eventually
from tools.seed import Blueprint, Checkpoint, Seeder, build_blueprint, checkpoint_identity

# A full run at 0.01 (38 supervising and 630 implementing organizations, 4,000 plans) takes longer here
# than the suite allows (docs/disclosure-and-statistics.md has the timing); 0.001 takes the same paths.
SCALE = float(os.environ.get("TITP_TEST_SEED_SCALE", "0.001"))
WAIT = 60
DIMENSIONS = ("nationality", "job_group", "stage", "training_type", "prefecture")
# The seeder writes thousands of commands as one client: above the services' default write rate limit.
UNLIMITED = {"write_rate_per_s": 1_000_000, "write_burst": 1_000_000}


def month(day: date) -> str:
    return day.strftime("%Y-%m")


def dimensions(blueprint: Blueprint, plan) -> dict[str, str]:
    return {
        "nationality": plan.nationality,
        "job_group": plan.job_group,
        "stage": plan.stage,
        "training_type": blueprint.training_type_of(plan),
        "prefecture": blueprint.prefecture_of(plan),
    }


def in_progress_on(plan, day: date) -> bool:
    ended = plan.ending[1] if plan.ending else None
    return plan.start_date <= day <= plan.end_date and (ended is None or day < ended)


async def answer(client, path: str, headers: dict, **params) -> dict:
    response = await client.get(path, params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def by_month(body: dict) -> Counter:
    return Counter({(m["month"], value): n for m in body["months"] for value, n in m["counts"].items()})


async def settles(fetch, expected, what: str) -> None:
    """Wait until `fetch()` answers `expected`: effects that cross Kafka arrive a little later."""
    last = {}

    async def matches():
        last["found"] = await fetch()
        return last["found"] == expected

    await eventually(matches, timeout=WAIT, message=lambda: f"{what}: {last.get('found')} != {expected}")


async def test_the_statistics_match_counts_computed_from_the_generated_data(start_service, token, tmp_path, unique):
    # Topics of their own: no other test's permits put inspections on this schedule.
    isolated = {**UNLIMITED, "topic_prefix": f"test-{unique}."}
    registry = await start_service("registry", **isolated)
    accreditation = await start_service("accreditation", **isolated)
    inspection = await start_service("inspection", **isolated)
    auditor = token("auditor")

    blueprint = build_blueprint(SCALE, 42, today())
    checkpoint = Checkpoint(tmp_path / "seed.jsonl", checkpoint_identity(blueprint))
    report = await Seeder(
        blueprint,
        {"registry": registry, "accreditation": accreditation, "inspection": inspection},
        token("otit", subject="titp-seed"),
        checkpoint,
        show_progress=False,
        concurrency=16,
    ).run()
    plans = blueprint.plans
    print(f"seeded {len(plans)} plans with {report.requests} requests in {report.seconds:.1f}s")

    # Check: plans certified per month, split by each dimension in turn, and filtered.
    first, last = min(p.certified_on for p in plans), max(p.certified_on for p in plans)
    for dimension in DIMENSIONS:
        body = await answer(
            accreditation,
            "/v1/statistics/plans-certified",
            auditor,
            by=dimension,
            **{"from": month(first), "to": month(last)},
        )
        expected = Counter((month(p.certified_on), dimensions(blueprint, p)[dimension]) for p in plans)
        assert by_month(body) == expected, dimension
    body = await answer(
        accreditation,
        "/v1/statistics/plans-certified",
        auditor,
        nationality="VN",
        stage="ii",
        **{"from": month(first), "to": month(last)},
    )
    assert sum(m["total"] for m in body["months"]) == sum(1 for p in plans if p.nationality == "VN" and p.stage == "ii")

    # Check: trainees in progress on the last day of every month, by each dimension.
    months = [month_start(min(p.start_date for p in plans))]
    while months[-1] < month_start(max(p.end_date for p in plans)):
        months.append(add_months(months[-1], 1))
    for dimension in DIMENSIONS:
        body = await answer(
            accreditation,
            "/v1/statistics/trainees-in-progress",
            auditor,
            by=dimension,
            **{"from": month(months[0]), "to": month(months[-1])},
        )
        expected = Counter(
            (month(m), dimensions(blueprint, p)[dimension])
            for m in months
            for p in plans
            if in_progress_on(p, last_day(m, 1))
        )
        assert by_month(body) == expected, dimension

    # Check: revocations per fiscal year: plans (an inspection's referral revokes those in force) and the
    # implementing organizations they belong to, in accreditation; supervising organizations in the registry.
    revoked = [p for p in plans if p.ending and p.ending[0] == "revoked"]
    years = sorted(
        {fiscal_year(p.ending[1]) for p in revoked}
        | {fiscal_year(so.revocation[0]) for so in blueprint.supervising if so.revocation}
    )
    expected_revocations = [
        {
            "plans": sum(1 for p in revoked if fiscal_year(p.ending[1]) == year),
            "implementing_organizations": len({p.implementing for p in revoked if fiscal_year(p.ending[1]) == year}),
        }
        for year in years
    ]

    async def revocations_of_plans():
        body = await answer(
            accreditation, "/v1/statistics/revocations", auditor, from_fiscal_year=years[0], to_fiscal_year=years[-1]
        )
        return [
            {k: y[k] for k in ("plans", "implementing_organizations")}
            for y in body["fiscal_years"]
            if y["fiscal_year"] in years
        ]

    await settles(revocations_of_plans, expected_revocations, "plan revocations per fiscal year")

    actions = Counter()
    for so in blueprint.supervising:
        actions.update(
            (fiscal_year(day), kind)
            for kind, day in (
                ("revocations", so.revocation and so.revocation[0]),
                ("suspensions", so.suspension and so.suspension[0]),
                ("downgrades", so.downgraded_on),
            )
            if day
        )
        actions.update((fiscal_year(issued), "improvement_orders") for issued, _ in so.improvement_orders)
    action_years = sorted({year for year, _ in actions})

    async def administrative_actions():
        body = await answer(
            registry,
            "/v1/statistics/administrative-actions",
            auditor,
            from_fiscal_year=action_years[0],
            to_fiscal_year=action_years[-1],
        )
        return Counter(
            {
                (y["fiscal_year"], kind): y[kind]
                for y in body["fiscal_years"]
                for kind in ("revocations", "suspensions", "downgrades", "improvement_orders")
                if y[kind]
            }
        )

    await settles(administrative_actions, actions, "administrative actions per fiscal year")

    # Check: the public disclosure lists every one of them, and each revocation of an employer's plans (Art. 16:
    # one decision per employer and day, published since issue 19), newest first, without a token.
    employer_decisions = {(p.implementing, p.ending[1]) for p in revoked}
    public = []

    async def disclosed():
        public[:] = (await registry.get("/v1/public/administrative-actions", params={"limit": 500})).json()["items"]
        return Counter(i["organization_type"] for i in public)

    await settles(
        disclosed,
        Counter(
            {"supervising_organization": sum(actions.values()), "implementing_organization": len(employer_decisions)}
        ),
        "public disclosure by kind of organization",
    )
    assert {i["action"] for i in public if i["organization_type"] == "implementing_organization"} <= {"plan_revocation"}
    assert [i["action_date"] for i in public] == sorted((i["action_date"] for i in public), reverse=True)

    # Check: permits by type and status as recorded.
    permits = Counter()
    for so in blueprint.supervising:
        permits[("specified" if so.downgraded_on else so.permit_type, "revoked" if so.revocation else "active")] += 1
    body = await answer(registry, "/v1/statistics/permits", auditor)
    assert Counter({(t, s): n for t, statuses in body["permits"].items() for s, n in statuses.items()}) == permits

    # Check: inspections done and with findings per quarter, as the seeder completed them; overdue on each
    # quarter's last day, from the inspections it saw: completed late or left open (until a revocation
    # cancelled them, or the employer's last plan ended).
    seen = report.inspections
    done = Counter(quarter_start(date.fromisoformat(i["inspected_on"])) for i in seen if i["inspected_on"])
    with_findings = Counter(quarter_start(date.fromisoformat(i["inspected_on"])) for i in seen if i["findings"])
    cancelled_on = {so.key: so.revocation[0] for so in blueprint.supervising if so.revocation}
    # An employer's schedule ends once none of its plans is in force (issue 19): the inspection it left open is
    # closed on the day its last plan ended.
    for index, io in enumerate(blueprint.implementing):
        own = [p for p in plans if p.implementing == index]
        if own and all(p.ending for p in own):
            cancelled_on[io.key] = max(p.ending[1] for p in own)

    def overdue_on(day: date) -> int:
        def closed(i):
            return date.fromisoformat(i["inspected_on"]) if i["inspected_on"] else cancelled_on.get(i["target"])

        return sum(
            1
            for i in seen
            if date.fromisoformat(i["scheduled_on"]) <= day
            and date.fromisoformat(i["due_by"]) < day
            and (closed(i) is None or closed(i) > day)
        )

    quarters = [quarter_start(min(done))]
    while quarters[-1] < quarter_start(blueprint.as_of):
        quarters.append(add_months(quarters[-1], 3))
    expected_quarters = [
        {
            "from": q.isoformat(),
            "done": done[q],
            "with_findings": with_findings[q],
            "overdue": overdue_on(min(add_months(q, 3) - timedelta(days=1), today())),
        }
        for q in quarters
    ]

    async def inspections():
        body = await answer(
            inspection, "/v1/statistics/inspections", auditor, **{"from": month(quarters[0]), "to": month(quarters[-1])}
        )
        return [{k: q[k] for k in ("from", "done", "with_findings", "overdue")} for q in body["quarters"]]

    await settles(inspections, expected_quarters, "inspections per quarter")
    assert sum(done.values()) > 0 and any(q["overdue"] for q in expected_quarters)

    # Check: by scheme (issue 17), the same inspections: split by scheme and filtered by each, they add up to the
    # totals; a supervising organization's are titp's, a supervision support organization's esd's.
    span = {"from": month(quarters[0]), "to": month(quarters[-1])}
    split = await answer(inspection, "/v1/statistics/inspections", auditor, by="scheme", **span)
    by_scheme = {
        scheme: await answer(inspection, "/v1/statistics/inspections", auditor, scheme=scheme, **span)
        for scheme in ("titp", "esd")
    }
    assert split["by"] == "scheme" and by_scheme["esd"]["scheme"] == "esd"
    measures = ("done", "with_findings", "overdue")
    for i, (q, expected) in enumerate(zip(split["quarters"], expected_quarters, strict=True)):
        assert set(q["counts"]) <= {"titp", "esd"}
        for measure in measures:
            assert sum(c[measure] for c in q["counts"].values()) == expected[measure], (q, measure)
            assert sum(by_scheme[s]["quarters"][i][measure] for s in by_scheme) == expected[measure], (q, measure)
            for scheme in by_scheme:
                assert q["counts"].get(scheme, {}).get(measure, 0) == by_scheme[scheme]["quarters"][i][measure]
    for target_type, scheme in (("supervising_organization", "titp"), ("supervision_support_organization", "esd")):
        only = await answer(
            inspection, "/v1/statistics/inspections", auditor, target_type=target_type, by="scheme", **span
        )
        assert all(set(q["counts"]) <= {scheme} for q in only["quarters"]), (target_type, only)
        done_of = Counter(
            quarter_start(date.fromisoformat(i["inspected_on"]))
            for i in seen
            if i["inspected_on"] and i["target_type"] == target_type
        )
        assert [q["done"] for q in only["quarters"]] == [done_of[q] for q in quarters], target_type
