"""A client generated with openapi-python-client from each service's own /openapi.json, used against the running
service (issue 16, item 6): a create, a refusal (a 409 parses to the problem model), a read (a typed model, not a
dict), a real 422 and a 401 — all parsed to the models the document declares, none to None, none raising.
"""

import asyncio
import importlib
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any
from uuid import uuid4

import httpx
import pytest

from shared.settings import SERVICES
from shared.topics import service_topic
from tests.helpers import eventually, grant, group_at_end, permit_application, registered_partners

GENERATOR = Path(sys.executable).parent / "openapi-python-client"
REF = "#/components/schemas/"


@dataclass
class Generated:
    """The client package generated from one service's document, talking to that running service."""

    package: ModuleType
    document: dict[str, Any]
    app: Any

    def client(self, bearer: dict[str, str]) -> Any:
        token = bearer["authorization"].removeprefix("Bearer ")
        return self.package.AuthenticatedClient(
            base_url="http://test", token=token, httpx_args={"transport": httpx.ASGITransport(self.app)}
        )

    def _operation(self, route: str) -> dict[str, Any]:
        method, path = route.split(" ")
        return self.document["paths"][path][method.lower()]

    def call(self, route: str) -> ModuleType:
        """The generated module of an operation, `METHOD /path` (api/<tag>/<operation id>.py)."""
        operation_id = self._operation(route)["operationId"]
        folder = Path(self.package.__file__).parent / "api"
        [module] = [path for path in folder.glob(f"*/{operation_id}.py")]
        return importlib.import_module(f"{self.package.__name__}.api.{module.parent.name}.{operation_id}")

    def body(self, route: str, value: dict[str, Any]) -> Any:
        """The operation's request body as the generated model of the schema the document names."""
        ref = self._operation(route)["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        return getattr(self.package.models, ref.removeprefix(REF)).from_dict(value)

    def answer(self, route: str, status: str = "200") -> dict[str, Any]:
        """The JSON schema of an operation's answer, as the document declares it."""
        return self._operation(route)["responses"][status]["content"]["application/json"]["schema"]

    def schema(self, reference: dict[str, Any]) -> dict[str, Any]:
        return self.document["components"]["schemas"][reference["$ref"].removeprefix(REF)]

    def problem(self, answer: Any, status: int) -> Any:
        assert answer.status_code == status, answer.content
        assert isinstance(answer.parsed, self.package.models.ProblemDetails), type(answer.parsed)
        assert answer.parsed.status == status and answer.parsed.type_
        return answer.parsed

    def typed(self, answer: Any, status: int = 200) -> Any:
        """The parsed answer, checked to be one of the generated models holding every member of the JSON."""
        assert answer.status_code == status, answer.content
        parsed = answer.parsed
        assert type(parsed).__module__.startswith(f"{self.package.__name__}.models."), type(parsed)
        assert getattr(parsed, "additional_properties", {}) == {}, "members the document does not declare"
        return parsed


@pytest.fixture
def start(another_database, service_settings, run_service, kafka_bootstrap, unique):
    """start(name) -> the running app (with a database of its own), its OpenAPI document from /openapi.json."""

    async def start(name: str) -> tuple[Any, httpx.AsyncClient, dict[str, Any]]:
        group = f"test-{name}-{unique}"
        await group_at_end(kafka_bootstrap, group, [service_topic(s) for s in SERVICES])
        settings = service_settings(name, await another_database(), consumer_group=group, relay_poll_interval_s=0.2)
        app = importlib.import_module(f"services.{name}.app").create_app(settings)
        client = await run_service(app)
        document = (await client.get("/openapi.json")).json()
        return app, client, document

    return start


@pytest.fixture
def generate(tmp_path):
    """generate(name, app, document) -> the client package openapi-python-client generates, imported."""
    packages = []

    async def generate(name: str, app: Any, document: dict[str, Any]) -> Generated:
        package = f"titp_{name}_client_{uuid4().hex[:8]}"
        source = tmp_path / f"{name}.json"
        source.write_text(json.dumps(document))
        env = {**os.environ, "PATH": f"{GENERATOR.parent}{os.pathsep}{os.environ.get('PATH', '')}"}
        done = await asyncio.to_thread(
            subprocess.run,
            [
                str(GENERATOR),
                "generate",
                "--path",
                str(source),
                "--output-path",
                str(tmp_path / package),
                "--meta",
                "none",
                "--fail-on-warning",
            ],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=300,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        if str(tmp_path) not in sys.path:
            sys.path.insert(0, str(tmp_path))
        packages.append(package)
        return Generated(importlib.import_module(package), document, app)

    yield generate
    if str(tmp_path) in sys.path:
        sys.path.remove(str(tmp_path))
    for name in [m for m in sys.modules if any(m.split(".")[0] == p for p in packages)]:
        del sys.modules[name]


SO, PLANS = "/v1/supervising-organizations", "/v1/training-plans"


def plan_application(supervising: str, implementing: str, sending: str) -> dict[str, Any]:
    """A type (b) training plan for a new trainee, under the permit and the agreement of `registered_partners`."""
    return {
        "trainee_id": str(uuid4()),
        "trainee": {
            "name": "Tran Thi Binh",
            "date_of_birth": "2002-08-15",
            "nationality": "VN",
            "passport_number": "B7654321",
        },
        "stage": "i",
        "training_type": "b",
        "job_category": "construction",
        "implementing_organization_id": implementing,
        "supervising_organization_id": supervising,
        "sending_organization_id": sending,
        "start_date": "2026-10-01",
        "end_date": "2027-09-30",
        "monthly_wage": 215_000,
        "comparable_japanese_wage": 210_000,
        "applied_on": "2026-05-20",
    }


APPLY, GRANT, READ, LIST = f"POST {SO}", f"POST {SO}/{{id}}/grant", f"GET {SO}/{{id}}", f"GET {SO}"


async def test_registry_supervising_organizations_through_the_generated_client(start, generate, token):
    app, _, document = await start("registry")
    api = await generate("registry", app, document)
    officer = api.client(token("otit", subject="officer-sato"))

    # Check: a create answers the declared 201 model, with its Location and ETag.
    created = await api.call(APPLY).asyncio_detailed(client=officer, body=api.body(APPLY, permit_application()))
    accepted = api.typed(created, 201)
    assert accepted.version == 1 and created.headers["etag"] == '"1"'
    assert created.headers["location"] == f"{SO}/{accepted.id}"

    # Check: a rule's refusal is the problem model, naming the rule; so is a stale If-Match.
    granting = api.call(GRANT)
    too_early = await granting.asyncio_detailed(
        accepted.id, client=officer, body=api.body(GRANT, grant(granted_on="2026-03-01"))
    )
    assert api.problem(too_early, 409).rule == "permit.granted_before_application"
    on_time = grant(granted_on="2026-05-01")
    stale = await granting.asyncio_detailed(accepted.id, client=officer, if_match='"7"', body=api.body(GRANT, on_time))
    api.problem(stale, 412)
    granted = await granting.asyncio_detailed(
        accepted.id, client=officer, if_match='"1"', idempotency_key="grant-1", body=api.body(GRANT, on_time)
    )
    assert api.typed(granted).version == 2

    # Check: a read is the document model, every member declared, at its version; a list's items are the same.
    read = await api.call(READ).asyncio_detailed(accepted.id, client=officer)
    organization = api.typed(read)
    assert str(organization.status) == "active" and str(organization.expires_on) == "2031-04-30"
    assert read.headers["etag"] == '"2"'
    page = api.typed(await api.call(LIST).asyncio_detailed(client=officer))
    assert [item.id for item in page.items] == [organization.id]
    assert type(page.items[0]).__name__ == type(organization).__name__

    # Check: a real 422 and a real 401 parse to the problem model too.
    invalid = await api.call(APPLY).asyncio_detailed(
        client=officer, body=api.body(APPLY, permit_application(corporate_number="12345"))
    )
    assert [error.field for error in api.problem(invalid, 422).errors] == ["body.corporate_number"]
    nobody = api.client({"authorization": "Bearer not-a-token"})
    api.problem(await api.call(READ).asyncio_detailed(accepted.id, client=nobody), 401)


async def test_accreditation_training_plans_through_the_generated_client(start, generate, token):
    _, registry, _ = await start("registry")
    app, _, document = await start("accreditation")
    api = await generate("accreditation", app, document)
    bearer = token("otit", subject="officer-mori")
    officer = api.client(bearer)
    partners = await registered_partners(registry, bearer, permit_type="specified")

    async def known() -> bool:  # accreditation learns the partners from titp.registry.v1 only
        async with app.state.pool.acquire() as conn:
            return await conn.fetchval(
                "SELECT (SELECT count(*) FROM registry_permits WHERE supervising_organization_id = $1"
                " AND status = 'active') + (SELECT count(*) FROM registry_implementing_organizations WHERE id = $2)"
                " + (SELECT count(*) FROM registry_sending_agreements WHERE id = $3) = 3",
                partners.supervising,
                partners.implementing,
                partners.agreement,
            )

    await eventually(known, timeout=30, message="the registry's events never reached accreditation")

    # Check: a create answers the declared 201 model.
    application = plan_application(partners.supervising, partners.implementing, partners.sending)
    created = await api.call(f"POST {PLANS}").asyncio_detailed(
        client=officer, body=api.body(f"POST {PLANS}", application)
    )
    plan = api.typed(created, 201)
    assert created.headers["location"] == f"{PLANS}/{plan.id}"

    # Check: a rule's refusal is the problem model, naming the rule.
    certify, route = api.call(f"POST {PLANS}/{{id}}/certify"), f"POST {PLANS}/{{id}}/certify"
    refused = await certify.asyncio_detailed(
        plan.id, client=officer, body=api.body(route, {"certified_on": "2026-05-01"})
    )
    assert api.problem(refused, 409).rule == "plan.certified_before_application"
    api.typed(
        await certify.asyncio_detailed(plan.id, client=officer, body=api.body(route, {"certified_on": "2026-06-01"}))
    )

    # Check: a read is the document model, every member declared; so are a list's items.
    read = await api.call(f"GET {PLANS}/{{id}}").asyncio_detailed(plan.id, client=officer)
    assert str(api.typed(read).status) == "in_progress" and read.headers["etag"] == '"2"'
    page = api.typed(await api.call(f"GET {PLANS}").asyncio_detailed(client=officer))
    assert [str(item.id) for item in page.items] == [str(plan.id)]
    assert type(page.items[0]).__name__ == type(read.parsed).__name__

    # Check: an unknown plan is the problem model (404).
    api.problem(await api.call(f"GET {PLANS}/{{id}}").asyncio_detailed(uuid4(), client=officer), 404)


@pytest.mark.parametrize(
    "name, listing, reading, role",
    [
        ("inspection", "GET /v1/inspections", "GET /v1/inspections/{id}", "otit"),
        ("visa", "GET /v1/coe-applications", "GET /v1/coe-applications/{id}", "immigration"),
    ],
)
async def test_inspection_and_visa_generate_and_answer_typed_models(
    start, generate, token, name, listing, reading, role
):
    app, _, document = await start(name)
    api = await generate(name, app, document)
    officer = api.client(token(role))
    page = api.typed(await api.call(listing).asyncio_detailed(client=officer))
    assert page.items == [] and page.next_cursor is None
    # Check: the page's items are a model of their own (each generated client parses them to it).
    page_schema = api.schema(api.answer(listing))
    assert "$ref" in page_schema["properties"]["items"]["items"], page_schema
    api.problem(await api.call(reading).asyncio_detailed(uuid4(), client=officer), 404)
