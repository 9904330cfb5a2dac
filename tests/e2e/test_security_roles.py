"""Who may call what, walked over every route of the four services (issue 8, ARCHITECTURE §6).

No token or a bad one is 401; a role the route does not declare is 403; an organization asking for
another organization's record gets 404 and none of its data; lists show an organization its own
records only. The routes come from the apps themselves, so a new route without declared roles,
or one that lets organizations in without being listed here, fails these tests.
"""

import base64
import json
import time
from uuid import uuid4

import jwt
import pytest
from fastapi.routing import APIRoute, iter_route_contexts

from shared.settings import SERVICES
from shared.web.auth import Role, declared_roles, mint_token
from shared.web.http import Page
from tests.helpers import corporate_number, eventually, grant, permit_application, post, sending_approval

# Health, metrics and the API and event catalogues: for load balancers, monitoring and client developers.
PUBLIC = {
    "/healthz",
    "/readyz",
    "/metrics",
    "/openapi.json",
    "/asyncapi.yaml",
    "/docs",
    "/docs/oauth2-redirect",
    "/redoc",
}
ORGANIZATION_ROLES = (Role.SUPERVISING_ORG, Role.IMPLEMENTING_ORG)
SO, IO, PLANS = "/v1/supervising-organizations", "/v1/implementing-organizations", "/v1/training-plans"
SSO = "/v1/supervision-support-organizations"  # ESD: a cooperative's ESD record is its own, under its own id

# Records no organization owns: every reader allowed by the route may see them.
SHARED_RECORDS = {"/v1/sending-organizations/{id}"}
# Bodies that would be accepted but for whose record it is, for the commands organizations may send.
COMMAND_BODIES = {
    # A general permit cannot be changed to general (409 for its own organization).
    f"{SO}/{{id}}/permit-type-changes": {"applied_on": "2027-01-10"},
    f"{PLANS}/{{id}}/complete": {"completed_on": "2027-03-31", "exam_result": "passed"},
    f"{PLANS}/{{id}}/discontinue": {"on": "2026-09-01", "reason": "bankruptcy"},
    # An early return before the plan started (409 early_return.plan_not_in_progress; the employer of a type (b) plan:
    # 409 filing.through_supervising_organization).
    f"{PLANS}/{{id}}/early-return": {"returned_on": "2020-01-01", "reason": "own_wish"},
    f"{SSO}/{{id}}/audit-reports": {
        "implementing_organization_id": str(uuid4()),  # not one it supports: 409 for its own organization
        "quarter_ending": "2027-06-30",
        "filed_on": "2027-07-20",
        "workers": 12,
        "workers_interviewed": 3,
    },
    # A report for a year not ended yet (409 filing.too_early for its own organization).
    f"{SO}/{{id}}/business-reports": {"fiscal_year": 2030, "filed_on": "2027-01-10"},
    # Changes to a plan not in force (409 change.plan_in_force).
    f"{PLANS}/{{id}}/changes": {"applied_on": "2026-09-01", "reason": "r", "changes": {"monthly_wage": 200000}},
    f"{PLANS}/{{id}}/minor-changes": {"notified_on": "2026-09-01", "description": "d", "changes": {"monthly_wage": 1}},
    # Filings about a plan no one knows (409 filing.training_plan), or too early (409 filing.too_early).
    f"{IO}/{{id}}/start-notices": {
        "training_plan_id": str(uuid4()),
        "started_on": "2026-11-01",
        "filed_on": "2026-11-05",
    },
    f"{IO}/{{id}}/difficulty-notices": {
        "training_plan_id": str(uuid4()),
        "occurred_on": "2026-11-01",
        "filed_on": "2026-11-05",
        "cause": "other",
        "measures": "m",
        "receipt_number": "S-2026-000001",
    },
    f"{IO}/{{id}}/annual-reports": {
        "fiscal_year": 2026,
        "filed_on": "2027-03-01",
        "receipt_number": "S-2026-000001",
        "trainees": 1,
    },
    f"{IO}/{{id}}/visit-records": {"month": "2026-01-01", "visited_on": "2026-01-05", "filed_on": "2026-01-06"},
    # A deposit among the fees (409 fees.deposit_forbidden for its own organization; nothing recorded).
    f"{PLANS}/{{id}}/fees": {
        "declared_on": "2026-09-01",
        "items": [
            {
                "kind": "deposit",
                "recipient": "broker",
                "purpose": "p",
                "amount_yen": 1,
                "declared_by": "sending_organization",
            }
        ],
    },
    # A pause before the plan's start (409 pause.before_start), a resumption of a plan not paused (409
    # pause.not_paused).
    f"{PLANS}/{{id}}/pause": {"on": "2026-09-01", "reason": "illness"},
    f"{PLANS}/{{id}}/resume": {"on": "2026-09-01"},
}


def routes(app):
    """(method, path template, declared roles or None) of every route the app serves."""
    found = []
    for route in iter_route_contexts(app.routes):
        if route.path in PUBLIC or route.path.startswith("/v1/public/"):
            continue  # /v1/public/: what the program publishes to everyone (DOMAIN §2: revocations and the like)
        assert isinstance(route.original_route, APIRoute), f"{route.path}: not an API route"
        for method in sorted(route.methods):
            found.append((method, route.path, declared_roles(route.dependant)))
    return found


def lists(app):
    """(path, declared roles) of every route that answers with a page of records."""
    return [
        (route.path, declared_roles(route.dependant))
        for route in iter_route_contexts(app.routes)
        if isinstance(route.original_route, APIRoute) and is_page(route.original_route.response_model)
    ]


def is_page(model) -> bool:
    """`Page`, or a page of one kind of record (`Page[SupervisingOrganizationDocument]`)."""
    return isinstance(model, type) and issubclass(model, Page)


def filled(path: str, ids: dict[str, str]) -> str:
    """The path with its parameters: the record of that kind in `ids`, else an id nobody has."""
    for prefix, kind in (
        (f"{SO}/{{id}}", "supervising"),
        (f"{SSO}/{{id}}", "support"),
        (f"{IO}/{{id}}", "implementing"),
        (f"{PLANS}/{{id}}", "plan"),
        ("/v1/sending-agreements/{id}", "agreement"),
        ("/v1/sending-organizations/{id}", "sending"),
        ("/v1/trainees/{trainee_id}", "trainee"),
    ):
        if path.startswith(prefix) and kind in ids:
            path = path.replace(prefix.rsplit("/", 1)[1], ids[kind], 1)
    return (
        path.replace("{id}", str(uuid4()))
        .replace("{order_id}", str(uuid4()))
        .replace("{trainee_id}", str(uuid4()))
        .replace("{stream_id}", str(uuid4()))
    )


def unsigned(claims: dict) -> str:
    encode = lambda part: base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=").decode()  # noqa: E731
    return f"{encode({'alg': 'none', 'typ': 'JWT'})}.{encode(claims)}."


@pytest.fixture
def bad_tokens(dev_keys, tmp_path):
    now = int(time.time())
    claims = {"iss": "titp-dev", "aud": "titp", "sub": "mallory", "roles": ["admin"], "iat": now, "exp": now + 600}
    return {
        "no token": {},
        "not a bearer": {"authorization": "Basic YWRtaW46YWRtaW4="},
        "another signing key": {"authorization": "Bearer " + mint_token(["admin"], keys_dir=tmp_path / "other")},
        "expired": {"authorization": "Bearer " + mint_token(["admin"], keys_dir=dev_keys, now=now - 7200)},
        "alg none": {"authorization": "Bearer " + unsigned(claims)},
        "another audience": {
            "authorization": "Bearer " + mint_token(["admin"], keys_dir=dev_keys, audience="someone-else")
        },
        "another issuer": {"authorization": "Bearer " + mint_token(["admin"], keys_dir=dev_keys, issuer="evil")},
        "HS256 with a guessed secret": {
            "authorization": "Bearer " + jwt.encode(claims, "a guessed secret of thirty-two bytes", algorithm="HS256")
        },
    }


@pytest.fixture(scope="module")
async def services(start_module_service):
    """The four services, shared by the tests: each makes organizations of its own."""
    return {name: await start_module_service(name) for name in SERVICES}


async def test_every_route_declares_its_roles_and_refuses_bad_tokens_and_other_roles(services, token, bad_tokens):
    for name, client in services.items():
        app = client._transport.app
        for method, path, roles in routes(app):
            # Check: every route names who may call it.
            assert roles, f"{name}: {method} {path} declares no roles"
            url = filled(path, {})
            for why, headers in bad_tokens.items():
                response = await client.request(method, url, headers=headers, json={})
                assert response.status_code == 401, (name, method, path, why, response.text)
                assert response.headers["content-type"] == "application/problem+json"
                assert response.headers["www-authenticate"].startswith("Bearer")
            for role in Role:
                org = str(uuid4()) if role in ORGANIZATION_ROLES else None
                response = await client.request(method, url, headers=token(role, org=org), json={})
                if role in roles:
                    assert response.status_code not in (401, 403) and response.status_code < 500, (
                        name,
                        method,
                        path,
                        role,
                        response.text,
                    )
                else:
                    assert response.status_code == 403, (name, method, path, role, response.text)
                    assert response.json()["type"].endswith("/forbidden")


@pytest.fixture
async def organizations(services, token):
    """Two of each: supervising organizations A and B (each filed its own application), an implementing
    organization and a training plan under each, and their agreements with one sending organization."""
    registry, accreditation = services["registry"], services["accreditation"]
    otit = token("otit")
    sending = (
        await post(
            registry,
            "/v1/sending-organizations",
            sending_approval(),
            otit,
            201,
        )
    )["id"]
    world = {}
    for side, city in (("A", "Sapporo"), ("B", "Naha")):
        own, support = str(uuid4()), str(uuid4())
        applied = await post(
            registry, SO, permit_application(name=f"{city} Cooperative"), token("supervising_org", org=own), 201
        )
        # Check: an organization's application is filed under its own id, so it can read it.
        assert applied["id"] == own
        await post(registry, f"{SO}/{own}/grant", grant(), otit)
        implementing = (
            await post(
                registry,
                IO,
                {
                    "name": f"{city} Steel",
                    "corporate_number": corporate_number(),
                    "address": f"1-1 {city}",
                    "prefecture": "Hokkaido",
                    "industry": "machinery",
                    "training_type": "b",
                    "supervising_organization_id": own,
                    "full_time_staff": 35,
                    "staff_as_of": "2026-04-01",
                    "excellent": False,
                    "registered_on": "2026-05-10",
                },
                otit,
                201,
            )
        )["id"]
        agreement = (
            await post(
                registry,
                f"{SO}/{own}/sending-agreements",
                {"sending_organization_id": sending, "signed_on": "2026-05-15"},
                otit,
                201,
            )
        )["id"]
        trainee = str(uuid4())
        application = {
            "trainee_id": trainee,
            "trainee": {
                "name": f"Trainee of {city}",
                "date_of_birth": "2001-05-01",
                "nationality": "VN",
                "passport_number": f"P{city.upper()}",
            },
            "stage": "i",
            "training_type": "b",
            "job_category": "construction",
            "implementing_organization_id": implementing,
            "supervising_organization_id": own,
            "sending_organization_id": sending,
            "start_date": "2026-11-01",
            "end_date": "2027-10-31",
            "monthly_wage": 215_000,
            "comparable_japanese_wage": 210_000,
            "applied_on": "2026-06-01",
        }

        async def filed(application=application, implementing=implementing):
            # An employer files under its supervising organization once accreditation has heard from the registry
            # that it belongs to it (404 until then).
            answer = await accreditation.post(
                PLANS, json=application, headers=token("implementing_org", org=implementing)
            )
            assert answer.status_code in (201, 404), answer.text
            return answer.json()["id"] if answer.status_code == 201 else None

        plan = await eventually(filed, timeout=30, message="accreditation never learnt the employer's registration")
        # The cooperative's ESD record (its own id), supporting the implementing organization, with an audit filed.
        await post(
            registry,
            SSO,
            {
                "name": f"{city} Cooperative (ESD)",
                "corporate_number": corporate_number(),
                "address": f"1-1 {city}",
                "prefecture": "Hokkaido",
                "representative": "Yamada Taro",
                "offices": [{"name": "Head office", "address": f"1-1 {city}", "supervision_manager": "Suzuki"}],
                "job_categories": ["construction"],
                "non_profit": True,
                "external_auditor": "Tanaka Law Office",
                "full_time_staff": 3,
                "member_employers": 12,
                "workers": 90,
                "applied_on": "2026-06-01",
            },
            token("supervising_org", org=support),
            201,
        )
        await post(registry, f"{SSO}/{support}/grant", {"granted_on": "2026-09-01", "excellent": False}, otit)
        await post(
            registry,
            f"{IO}/{implementing}/supervision",
            {"supervising_organization_id": support, "scheme": "esd", "from": "2027-04-01"},
            otit,
        )
        await post(
            registry,
            f"{SSO}/{support}/audit-reports",
            {
                "implementing_organization_id": implementing,
                "quarter_ending": "2027-06-30",
                "filed_on": "2027-07-20",
                "workers": 12,
                "workers_interviewed": 3,
            },
            token("supervising_org", org=support),
        )
        [report] = (await registry.get(f"{SSO}/{support}/audit-reports", headers=otit)).json()["items"]
        world[side] = {
            "supervising": own,
            "support": support,
            "report": report["id"],
            "implementing": implementing,
            "agreement": agreement,
            "plan": plan,
            "trainee": trainee,
            "sending": sending,
            "secrets": [f"{city} Cooperative", f"{city} Steel", f"Trainee of {city}", city],
        }
    return world


def member(token, role: Role, side: dict, path: str = "") -> dict[str, str]:
    if role is Role.SUPERVISING_ORG:
        return token(role, org=side["support" if path.startswith(SSO) else "supervising"])
    return token(role, org=side["implementing"])


async def test_an_organization_never_reaches_another_organizations_records(services, organizations, token):
    a, b = organizations["A"], organizations["B"]
    for name in ("registry", "accreditation"):
        client = services[name]
        for method, path, roles in routes(client._transport.app):
            for role in (r for r in ORGANIZATION_ROLES if r in roles):
                if "{" not in path or path in SHARED_RECORDS:
                    continue
                body = COMMAND_BODIES.get(path, {})
                assert method == "GET" or body, f"{method} {path} lets organizations in: give it a body here"
                for params in ({}, {"as_of": "2030-01-01"}) if method == "GET" else ({},):
                    theirs = await client.request(
                        method, filled(path, a), headers=member(token, role, b, path), json=body, params=params
                    )
                    # Check: B is told A's record does not exist, and sees none of it.
                    assert theirs.status_code == 404, (method, path, role, theirs.text)
                    assert not any(secret in theirs.text for secret in a["secrets"]), theirs.text
                    assert set(theirs.json()) <= {"type", "title", "status", "detail", "resource", "id"}
                    own = await client.request(
                        method, filled(path, a), headers=member(token, role, a, path), json=body, params=params
                    )
                    # Check: it is about whose record it is: A reaches it (a plan not yet started cannot end: 409).
                    assert own.status_code in (200, 409), (method, path, role, own.text)

    # An organization cannot file a plan for another's implementing organization either.
    plan = (await services["accreditation"].get(f"{PLANS}/{a['plan']}", headers=token("otit"))).json()
    application = {
        k: plan[k]
        for k in (
            "trainee_id",
            "stage",
            "training_type",
            "job_category",
            "implementing_organization_id",
            "supervising_organization_id",
            "sending_organization_id",
            "start_date",
            "end_date",
            "monthly_wage",
            "comparable_japanese_wage",
        )
    }
    application |= {
        "trainee_id": str(uuid4()),
        "applied_on": "2026-06-01",
        "trainee": {"name": "X", "date_of_birth": "2001-05-01", "nationality": "VN", "passport_number": "X1"},
    }
    for role in ORGANIZATION_ROLES:
        refused = await services["accreditation"].post(PLANS, json=application, headers=member(token, role, b))
        assert refused.status_code == 404, refused.text


async def test_lists_show_an_organization_its_own_records_only(services, organizations, token):
    a, b = organizations["A"], organizations["B"]
    mine = {v for k, v in b.items() if k != "secrets"}
    checked = set()
    for name in ("registry", "accreditation"):
        client = services[name]
        for path, roles in lists(client._transport.app):
            for role in (r for r in ORGANIZATION_ROLES if r in (roles or ())):  # a public list has none
                if path == "/v1/sending-organizations":
                    continue  # approved sending organizations are everyone's to see
                checked.add(path)
                own = await client.get(filled(path, b), headers=member(token, role, b, path))
                assert own.status_code == 200, (path, role, own.text)
                items = own.json()["items"]
                # Check: B sees its own records, and none of A's.
                assert items and all(item["id"] in mine for item in items), (path, role, items)
                assert not any(secret in own.text for secret in a["secrets"])
                for key, value in (
                    ("implementing_organization_id", a["implementing"]),
                    ("supervising_organization_id", a["supervising"]),
                ):
                    filtered = await client.get(
                        filled(path, b), headers=member(token, role, b, path), params={key: value}
                    )
                    # Check: asking for A's records by filter finds nothing (or the filter is not offered).
                    assert filtered.status_code == 200 and not any(
                        secret in filtered.text for secret in a["secrets"]
                    ), (path, key, filtered.text)
    assert {SO, IO, PLANS, f"{SO}/{{id}}/sending-agreements", SSO, f"{SSO}/{{id}}/audit-reports"} <= checked
