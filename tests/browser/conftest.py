"""The console in a real browser: the four services and the console run as deployed (subprocesses on free loopback
ports, each service with a database of its own on the test stack's PostgreSQL and consumer groups and topics of this
module's own on its Kafka), started once for the module; Debian's Chromium (/usr/bin/chromium, `make browser-tools`)
driven by Playwright's sync API. Playwright never downloads a browser here: it launches that executable.

Screenshots of the main pages go to the artefacts folder (`$TITP_TEST_ARTEFACTS/console`, else
`.data/test-artefacts/console`), with the processes' logs under its `logs/`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from shared.settings import SERVICES
from shared.web.auth import JWKS_FILE
from tests.helpers import databases, dsn_for

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
AXE = ROOT / "tools" / "browser" / "node_modules" / "axe-core" / "axe.min.js"
# What this machine's Chromium needs to start headless as root without reaching for the network (the closed network
# refuses its background connections, many at a time): /work/.library/env/machines/polyglot.md.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
STEP_TIMEOUT_MS = 10_000  # one click, fill or navigation: the pages answer in well under a second
SCREEN = {"width": 1280, "height": 900}


def artefacts_folder() -> Path:
    root = os.environ.get("TITP_TEST_ARTEFACTS")
    return (Path(root) if root else ROOT / ".data" / "test-artefacts") / "console"


@pytest.fixture(scope="module")
def artefacts() -> Path:
    """The folder the screenshots and logs of this run go to, emptied first: it shows this run only."""
    folder = artefacts_folder()
    shutil.rmtree(folder, ignore_errors=True)
    (folder / "logs").mkdir(parents=True)
    return folder


class Process:
    """A program of the project run as deployed, on a free loopback port; its output in `<logs>/<label>.log`."""

    def __init__(self, label: str, arguments: list[str], env: dict[str, str], logs: Path) -> None:
        self.label, self.log = label, logs / f"{label}.log"
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(arguments, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)

    async def ready(self, url: str) -> None:
        from bench.harness import answering

        await answering(self.process, url, self.label, self.log)

    def stop(self) -> None:
        from bench.harness import stop_process

        stop_process(self.process)


@dataclass(frozen=True)
class Console:
    url: str
    services: dict[str, str]  # service -> its base URL


@pytest.fixture(scope="module")
async def console(
    admin_dsn, owner_dsn, app_dsn, kafka_bootstrap, dev_keys, artefacts, tmp_path_factory
) -> AsyncIterator[Console]:
    """The four services and the console, started together once for the module and stopped after it."""

    run = uuid.uuid4().hex[:8]
    prefix = f"test-browser-{run}."  # topics and consumer groups of this module's own
    async with databases(admin_dsn, owner_dsn, app_dsn) as make:
        names = {service: (await make()).rsplit("/", 1)[1] for service in SERVICES}  # each its own database
        async with _started(
            names, prefix, app_dsn or owner_dsn, owner_dsn, kafka_bootstrap, dev_keys, artefacts, tmp_path_factory
        ) as console:
            yield console


@contextlib.asynccontextmanager
async def _started(
    names, prefix, app_dsn, owner_dsn, kafka_bootstrap, dev_keys, artefacts, tmp_path_factory
) -> AsyncIterator[Console]:
    from bench.harness import free_port

    # The console signs the officer's token with the key the services trust: <data_dir>/dev-keys.
    data_dir, services_data = tmp_path_factory.mktemp("console-data"), tmp_path_factory.mktemp("services-data")
    (data_dir / "dev-keys").symlink_to(dev_keys, target_is_directory=True)
    logs = artefacts / "logs"
    environment = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    started: list[Process] = []
    try:
        urls = {}
        for service in SERVICES:
            port = free_port()
            urls[service] = f"http://127.0.0.1:{port}"
            env = {
                **environment,  # the test stack's Kafka identity (TITP_KAFKA_*)
                "TITP_DATABASE_URL": dsn_for(app_dsn, names[service]),
                "TITP_MIGRATION_DATABASE_URL": dsn_for(owner_dsn, names[service]),
                "TITP_KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
                "TITP_AUTH_JWKS_URL": (dev_keys / JWKS_FILE).as_uri(),
                "TITP_HTTP_HOST": "127.0.0.1",
                "TITP_HTTP_PORT": str(port),
                "TITP_TOPIC_PREFIX": prefix,
                "TITP_CONSUMER_GROUP": f"{prefix}titp.{service}",
                "TITP_RELAY_POLL_INTERVAL_S": "0.2",
                "TITP_DATA_DIR": str(services_data),
                "TITP_LOG_JSON": "true",
            }
            arguments = [sys.executable, "-m", "shared.web.serve", f"services.{service}.app:create_app"]
            started.append(Process(service, arguments, env, logs))
        await asyncio.gather(*(p.ready(f"{urls[p.label]}/readyz") for p in started))

        port = free_port()
        env = {
            **environment,
            "TITP_CONSOLE_HTTP_HOST": "127.0.0.1",
            "TITP_CONSOLE_HTTP_PORT": str(port),
            "TITP_CONSOLE_DATA_DIR": str(data_dir),
            "TITP_CONSOLE_DEV_SIGN_IN": "true",
            **{f"TITP_CONSOLE_{service.upper()}_URL": url for service, url in urls.items()},
        }
        console = Process("console", [sys.executable, "-m", "services.console"], env, logs)
        started.append(console)
        url = f"http://127.0.0.1:{port}"
        await console.ready(f"{url}/readyz")
        yield Console(url, urls)
    finally:
        for process in reversed(started):
            process.stop()


@pytest.fixture(scope="module")
def browser(console: Console) -> Iterator[Any]:
    """Debian's Chromium under Playwright, once for the module (after the servers start, closed before they stop:
    while Playwright's sync API runs, its own event loop is the running one)."""
    from playwright.sync_api import sync_playwright

    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: run `make browser-tools`"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[pytest.TestReport]:
    """Note each phase's outcome on the test, so that `page` can keep the page a failed story ended on."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
def page(request: pytest.FixtureRequest, browser: Any, console: Console, artefacts: Path) -> Iterator[Any]:
    """A new browser profile (no cookies: nobody signed in) on the console, for one story. If the story fails, the
    page it ended on is kept as `FAILED-<test>.png` beside the screenshots."""
    context = browser.new_context(base_url=console.url, viewport=SCREEN)
    context.set_default_timeout(STEP_TIMEOUT_MS)
    page = context.new_page()
    try:
        yield page
        called = getattr(request.node, "report_call", None)
        if called is not None and called.failed:
            page.screenshot(path=str(artefacts / f"FAILED-{request.node.name}.png"), full_page=True)
    finally:
        context.close()


@pytest.fixture
def screenshot(artefacts: Path):
    """screenshot(page, name): the whole page as `<artefacts>/<name>.png`."""

    def take(page: Any, name: str) -> Path:
        path = artefacts / f"{re.sub(r'[^a-z0-9-]+', '-', name.lower())}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
