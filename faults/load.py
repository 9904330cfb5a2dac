"""The load: each service's own commands at once, sent the way a careful client sends them — an
Idempotency-Key on every command, and the same request again (after Retry-After, if given) until it gets
an answer — and counted per service.

- registry: a permit application, then its grant (which the inspection answers with a first inspection);
- accreditation: training plan applications under the registry's partners;
- inspection: extraordinary inspections of the supervising organization;
- visa: a COE application on a certified plan (one plan per client), then its denial, which frees the plan.

Each service's commands are sent under a subject of their own (`faults-<service>`), so the events they
stored can be told from the setup's, the checkpoints and those a subscription appended.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field
from uuid import uuid4

import httpx

from bench.harness import GENERAL_GRANT, Keys, permit_application
from tests.e2e.test_visa_coe import COE, day
from tests.e2e.test_visa_path import once_accepted, plan_application
from tests.helpers import Partners, post, registered_partners
from tests.integration.test_accreditation_service import PLANS

SUPERVISING_ORGANIZATIONS = "/v1/supervising-organizations"
INSPECTIONS = "/v1/inspections"
PLANS_PER_EMPLOYER = 4  # quota.stage_limit for the 35 full-time staff of tests.helpers' implementing organization
ROLE = {"registry": "otit", "accreditation": "otit", "inspection": "otit", "visa": "immigration"}


def subject(service: str) -> str:
    return f"faults-{service}"


def complaint(supervising: str) -> dict:
    return {
        "target_type": "supervising_organization",
        "target_id": supervising,
        "reason": "complaint",
        "due_by": "2027-01-31",
        "scheduled_on": "2027-01-05",
        "detail": "a trainee called the OTIT hotline",
    }


@dataclass
class Setup:
    """What the load's commands refer to, made before the load through the services' own APIs."""

    partners: Partners
    plans: list[str]  # certified stage-i plans, each free for a COE application


async def prepare(urls: dict[str, str], keys: Keys, plans: int) -> Setup:
    officer = keys.headers("otit", subject="faults-setup")
    immigration = keys.headers("immigration", subject="faults-setup")
    async with (
        httpx.AsyncClient(base_url=urls["registry"], timeout=30) as registry,
        httpx.AsyncClient(base_url=urls["accreditation"], timeout=30) as accreditation,
        httpx.AsyncClient(base_url=urls["inspection"], timeout=30) as inspection,
        httpx.AsyncClient(base_url=urls["visa"], timeout=30) as visa,
    ):
        partners = await registered_partners(registry, officer)
        certified, employer = [], partners
        for i in range(plans):
            if i and i % PLANS_PER_EMPLOYER == 0:  # the quota: more plans, more employers
                employer = await registered_partners(registry, officer)
            application = plan_application(employer.supervising, employer.implementing, employer.sending)
            plan = (await post(accreditation, PLANS, application, officer, 201))["id"]
            await once_accepted(accreditation, f"{PLANS}/{plan}/certify", {"certified_on": "2026-10-15"}, officer)
            # Once the visa service has heard of the certification: a COE applied for and denied again.
            coe = await once_accepted(visa, COE, {"training_plan_id": plan, "applied_on": day(-10)}, immigration, 201)
            await post(visa, f"{COE}/{coe['id']}/deny", {"reason": "faults setup"}, immigration)
            certified.append(plan)
        await once_accepted(inspection, INSPECTIONS, complaint(partners.supervising), officer, 201)
    return Setup(partners, certified)


@dataclass
class Tally:
    """One service's commands. `sent` counts each command once however often it was retried."""

    sent: int = 0
    attempts: int = 0
    acknowledged: list[tuple[str, int]] = field(default_factory=list)  # (stream id, version) of each 2xx
    acknowledged_at: list[float] = field(default_factory=list)  # time.monotonic() of each
    refused: Counter = field(default_factory=Counter)  # 4xx answers: a valid load gets none
    failures: Counter = field(default_factory=Counter)  # "unreachable" or a 5xx status: sent again
    unreachable: Counter = field(
        default_factory=Counter
    )  # the "unreachable" by httpx error (ConnectError, ReadTimeout)
    retry_after: int = 0  # 503 answers that carried a Retry-After header
    abandoned: int = 0  # commands still unanswered when the load gave up on them
    last_refusal: str | None = None
    last_unreachable: str | None = None  # the path, time.monotonic() and the error of the last one

    def acknowledged_between(self, start: float, end: float) -> int:
        return sum(start <= t < end for t in self.acknowledged_at)

    def summary(self) -> dict:
        return {
            "sent": self.sent,
            "acknowledged": len(self.acknowledged),
            "attempts": self.attempts,
            "refused": dict(self.refused),
            "failures": dict(self.failures),
            "unreachable": dict(self.unreachable),
            "503_with_retry_after": self.retry_after,
            "abandoned": self.abandoned,
            **({"last_refusal": self.last_refusal} if self.last_refusal else {}),
            **({"last_unreachable": self.last_unreachable} if self.last_unreachable else {}),
        }


class Load:
    """`clients` clients per service sending commands until stop(); each pauses `pause` s between commands.
    `in_flight_max`: the most commands in flight at once (sent, not yet answered), across the services."""

    def __init__(self, urls: dict[str, str], keys: Keys, setup: Setup, *, clients: int, pause: float) -> None:
        self.urls, self.setup, self.clients, self.pause = urls, setup, clients, pause
        self.headers = {name: keys.headers(ROLE[name], subject=subject(name)) for name in urls}
        self.tallies = {name: Tally() for name in urls}
        self.in_flight = 0  # commands sent and not answered yet (retries included), across the services
        self.in_flight_max = 0
        self.running = True
        self.give_up_at = float("inf")
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self, patience: float) -> None:
        """No new commands; those in flight get `patience` seconds to be answered."""
        self.running = False
        self.give_up_at = time.monotonic() + patience
        assert self._task is not None, "stop() before start()"
        await self._task

    async def _run(self) -> None:
        scripts = {
            "registry": self._registry,
            "accreditation": self._accreditation,
            "inspection": self._inspection,
            "visa": self._visa,
        }
        await asyncio.gather(*(self._loop(name, scripts[name], i) for name in self.urls for i in range(self.clients)))

    async def _loop(self, name: str, script, client: int) -> None:
        # Each client has a connection of its own, as separate clients would. With one pool shared by every client,
        # httpcore (1.0.9) could close a kept-alive connection just handed to one client's request because its idle
        # time ran out meanwhile, in another client's pass over the pool: that request failed with ReadError
        # (ClosedResourceError, closed on the client's side) without the service being at fault. It is given up
        # after 2 s idle, before uvicorn closes it (5 s), so no request goes out on a connection being closed.
        limits = httpx.Limits(max_connections=1, keepalive_expiry=2.0)
        async with httpx.AsyncClient(timeout=10, limits=limits) as http:

            async def command(path: str, body: dict) -> dict | None:
                return await self._command(http, name, path, body)

            while self.running:
                await script(command, client)
                await asyncio.sleep(self.pause)

    async def _command(self, http: httpx.AsyncClient, name: str, path: str, body: dict) -> dict | None:
        """POST until an answer: the 2xx body, or None if refused (4xx) or given up on."""
        self.in_flight += 1
        self.in_flight_max = max(self.in_flight_max, self.in_flight)
        try:
            return await self._until_answered(http, name, path, body)
        finally:
            self.in_flight -= 1

    async def _until_answered(self, http: httpx.AsyncClient, name: str, path: str, body: dict) -> dict | None:
        tally = self.tallies[name]
        headers = {**self.headers[name], "idempotency-key": uuid4().hex}
        tally.sent += 1
        while True:
            tally.attempts += 1
            delay = 0.2
            try:
                response = await http.post(self.urls[name] + path, json=body, headers=headers)
            except httpx.HTTPError as error:
                tally.failures["unreachable"] += 1
                tally.unreachable[type(error).__name__] += 1
                cause = error.__cause__ or error.__context__
                tally.last_unreachable = f"{path} at {time.monotonic():.2f}: {error!r} from {cause!r}"
            else:
                if response.is_success:
                    answer = response.json()
                    tally.acknowledged.append((answer["id"], answer["version"]))
                    tally.acknowledged_at.append(time.monotonic())
                    return answer
                if response.status_code < 500:
                    tally.refused[response.status_code] += 1
                    tally.last_refusal = f"{path}: {response.status_code} {response.text[:300]}"
                    return None
                tally.failures[str(response.status_code)] += 1
                if response.status_code == 503 and "retry-after" in response.headers:
                    tally.retry_after += 1
                    delay = min(_seconds(response.headers["retry-after"]), 2.0)
            if time.monotonic() > self.give_up_at:
                tally.abandoned += 1
                return None
            await asyncio.sleep(delay)

    async def _registry(self, command, client: int) -> None:
        if applied := await command(SUPERVISING_ORGANIZATIONS, permit_application()):
            await command(f"{SUPERVISING_ORGANIZATIONS}/{applied['id']}/grant", GENERAL_GRANT)

    async def _accreditation(self, command, client: int) -> None:
        partners = self.setup.partners
        await command(PLANS, plan_application(partners.supervising, partners.implementing, partners.sending))

    async def _inspection(self, command, client: int) -> None:
        await command(INSPECTIONS, complaint(self.setup.partners.supervising))

    async def _visa(self, command, client: int) -> None:
        plan = self.setup.plans[client]
        if coe := await command(COE, {"training_plan_id": plan, "applied_on": day(-10)}):
            await command(f"{COE}/{coe['id']}/deny", {"reason": "documents incomplete"})


def _seconds(retry_after: str) -> float:
    """Retry-After in seconds; 1 for the HTTP-date form, which a service has no reason to send."""
    try:
        return float(retry_after)
    except ValueError:
        return 1.0
