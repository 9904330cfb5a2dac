"""The `titp` command. Each command is a thin layer over a function of `shared` or a service."""

import asyncio
import importlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, cast
from urllib.parse import urlsplit, urlunsplit

import orjson
import typer
from pydantic_core import to_jsonable_python
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from shared import consumer as consumer_lib
from shared.audit import log as audit_lib
from shared.audit import replay as replay_lib
from shared.audit.asyncapi import asyncapi_document, render
from shared.db import create_pool
from shared.events import format_time
from shared.service import ServiceDefinition
from shared.settings import SERVICES, InvalidSettings, ServiceSettings, load_settings
from shared.topics import dlq_topic
from shared.web import auth
from shared.web.http import as_of_param
from shared.web.problems import InvalidParameter
from tools import seed

app = typer.Typer(no_args_is_help=True, add_completion=False)


@app.callback()
def titp() -> None:
    """Operate the TITP back office."""


@app.command("dev-token")
def dev_token(
    role: Annotated[list[auth.Role], typer.Option("--role", help="Repeat for several roles.")],
    org: Annotated[str | None, typer.Option(help="Organization id, for supervising_org and implementing_org.")] = None,
    subject: Annotated[str, typer.Option(help="Who the token names (sub).")] = "dev-user",
    ttl: Annotated[int, typer.Option(min=1, help="Seconds until it expires.")] = 3600,
    keys_dir: Annotated[Path | None, typer.Option(help="Default: $TITP_DATA_DIR/dev-keys.")] = None,
    key_type: Annotated[str, typer.Option(help="ed25519 or rsa, if the keys are created now.")] = "ed25519",
    issuer: Annotated[str, typer.Option(envvar="TITP_AUTH_ISSUER")] = auth.DEV_ISSUER,
    audience: Annotated[str, typer.Option(envvar="TITP_AUTH_AUDIENCE")] = auth.DEV_AUDIENCE,
) -> None:
    """Print a bearer token signed by the dev issuer, creating its keys if missing."""
    if key_type not in ("ed25519", "rsa"):
        raise typer.BadParameter("ed25519 or rsa", param_hint="--key-type")
    folder = auth.ensure_dev_keys(keys_dir or auth.default_dev_keys_dir(), cast(auth.KeyType, key_type))
    try:
        token = auth.mint_token(role, org, subject, ttl, keys_dir=folder, issuer=issuer, audience=audience)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None
    typer.echo(token)


app.command("seed")(seed.command)


# Audit: `titp audit ...` and `titp rebuild`; the work is in shared/audit/log.py and shared/audit/replay.py.

audit = typer.Typer(no_args_is_help=True, help="Verify, export and replay the services' history.")
app.add_typer(audit, name="audit")

# From the one list of services (shared/settings.py); mypy cannot see members made from a variable.
ServiceChoice = StrEnum("ServiceChoice", {name: name for name in SERVICES})  # type: ignore[misc]
Services = Annotated[
    list[ServiceChoice] | None, typer.Option("--service", "-s", help="Repeat for several. Default: all four.")
]
Urls = Annotated[
    list[str] | None,
    typer.Option(
        "--url", help="SERVICE=URL of a service's REST API, for --from rest (default: its TITP_HTTP_HOST and port)."
    ),
]
Token = Annotated[str | None, typer.Option(envvar="TITP_TOKEN", help="An auditor's bearer token, for --from rest.")]


def _settings(service: str) -> ServiceSettings:
    try:
        return load_settings(service, log_json=False, log_level="WARNING")
    except InvalidSettings as error:
        raise typer.BadParameter(str(error)) from None


def _definition(settings: ServiceSettings) -> ServiceDefinition:
    """The service as its app wires it (with its own settings, e.g. the inspection cadence); nothing starts."""
    return importlib.import_module(f"services.{settings.service}.app").create_app(settings).state.definition


def _services(chosen: list[ServiceChoice] | None) -> list[str]:
    return [s.value for s in chosen] if chosen else list(SERVICES)


def _urls(pairs: list[str] | None) -> dict[str, str]:
    urls = dict(pair.split("=", 1) for pair in pairs or () if "=" in pair)
    if len(urls) != len(pairs or ()) or not set(urls) <= set(SERVICES):
        raise typer.BadParameter("expected SERVICE=URL, e.g. registry=http://127.0.0.1:8001", param_hint="--url")
    return urls


@contextmanager
def _progress() -> Iterator[audit_lib.Progress]:
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=Console(stderr=True)) as bars:

        def task(description: str, total: int | None) -> Callable[[int], None]:
            task_id = bars.add_task(description, total=total)
            return lambda n: bars.advance(task_id, n)

        yield task


async def _read_logs(
    services: list[str], source: audit_lib.Source, urls: dict[str, str], token: str | None
) -> list[audit_lib.ServiceLog]:
    with _progress() as progress:
        return [
            await audit_lib.read_log(_settings(s), source, url=urls.get(s), token=token, progress=progress)
            for s in services
        ]


@audit.command("export")
def audit_export(
    out: Annotated[Path, typer.Argument(help="The folder to write the bundle to.")],
    source: Annotated[audit_lib.Source, typer.Option("--from")] = audit_lib.Source.KAFKA,
    services: Services = None,
    url: Urls = None,
    token: Token = None,
) -> None:
    """Export every service's history as JSON Lines, with the public keys of its checkpoints.

    One file per service, one CloudEvent per line in log order: a bundle that `titp audit verify --bundle`
    checks offline.
    """
    logs = asyncio.run(_read_logs(_services(services), source, _urls(url), token))
    written = audit_lib.write_bundle(
        out, {log.service: log.events for log in logs}, {log.service: log.keys for log in logs}
    )
    for log in logs:
        typer.echo(f"{log.service}: {written[log.service]} events -> {out / (log.service + '.jsonl')}")
        for message in log.unreadable:
            typer.echo(f"{log.service}: not a CloudEvent, left out: {message}", err=True)
        if not log.keys:
            typer.echo(f"{log.service}: no public key found; its checkpoints cannot be verified", err=True)


@audit.command("verify")
def audit_verify(
    source: Annotated[audit_lib.Source, typer.Option("--from")] = audit_lib.Source.DB,
    bundle: Annotated[
        Path | None, typer.Option(help="Verify an exported bundle instead, offline.", exists=True, file_okay=False)
    ] = None,
    public_keys: Annotated[
        Path | None, typer.Option(help="public-keys.json to trust instead of the source's", exists=True, dir_okay=False)
    ] = None,
    services: Services = None,
    url: Urls = None,
    token: Token = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON report per service and line.")] = False,
) -> None:
    """Check every hash chain and signed checkpoint, naming the service, stream and event of each break.

    Exits 1 when anything is wrong.
    """
    if bundle:
        logs, keys = audit_lib.read_bundle(bundle)
        chosen = _services(services) if services else sorted(logs)
    else:
        read = asyncio.run(_read_logs(_services(services), source, _urls(url), token))
        logs, keys = {log.service: log.events for log in read}, {log.service: log.keys for log in read}
        chosen = list(logs)
    if public_keys:
        keys = audit_lib.read_public_keys(public_keys)
    reports = [audit_lib.verify_log(s, logs.get(s, []), keys.get(s, [])) for s in chosen]
    for report in reports:
        if as_json:
            typer.echo(orjson.dumps(report.to_json()))
            continue
        sealed = (
            f"sealed through position {report.sealed_through}"
            if report.sealed_through is not None
            else "nothing sealed yet"
        )
        typer.echo(
            f"{report.service}: {'ok' if report.ok else 'BROKEN'}: {report.events} events in {report.streams}"
            f" streams; {report.checkpoints} checkpoints hold, {sealed}, {report.unsealed} events after it"
        )
        for finding in report.findings:
            typer.echo(f"  {finding}")
    raise typer.Exit(0 if all(r.ok for r in reports) else 1)


@audit.command("replay")
def audit_replay(
    services: Services = None,
    into: Annotated[
        str | None,
        typer.Option(
            help="The database URL to replay into, with {service} for the"
            " service's name. Default: its own database's URL + _replay."
        ),
    ] = None,
    recreate: Annotated[bool, typer.Option(help="Drop the databases to replay into first.")] = False,
    diff: Annotated[bool, typer.Option(help="Compare the replayed read models with the live ones.")] = True,
) -> None:
    """Rebuild every service into fresh databases from the topics alone, and diff them against the live ones.

    The topics are read from offset 0; the read models are compared row by row. Exits 1 on any difference.
    """
    settings = {s: _settings(s) for s in _services(services)}
    targets = {
        s: into.format(service=s) if into else _suffixed(st.database_url, "_replay") for s, st in settings.items()
    }

    definitions = [_definition(st) for st in settings.values()]

    async def run() -> tuple[dict, dict]:
        for target in targets.values():
            await replay_lib.create_database(target, recreate=recreate)
        with _progress() as progress:
            results = await replay_lib.replay_topics([(d, settings[d.name]) for d in definitions], targets, progress)
        diffs = (
            {
                d.name: await replay_lib.diff_read_models(
                    settings[d.name].database_url, targets[d.name], d.outside_the_log
                )
                for d in definitions
            }
            if diff
            else {}
        )
        return results, diffs

    try:
        results, diffs = asyncio.run(run())
    except replay_lib.ReplayError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(2) from None
    for service, result in results.items():
        typer.echo(
            f"{service}: {result.events} own events, {result.projected} projections, {result.applied} events"
            f" of other services applied -> {targets[service]}"
        )
        for refused in result.failed:
            typer.echo(f"  refused (the live service dead-lettered it too, or the diff shows it): {refused}")
        for table in diffs.get(service, []):
            typer.echo(
                f"  {table.table}: {len(table.only_live)} rows only live, {len(table.only_replayed)} only replayed"
            )
            typer.echo(
                "".join(f"    - {row}\n" for row in table.only_live)
                + "".join(f"    + {row}\n" for row in table.only_replayed),
                nl=False,
            )
        if diff and not diffs.get(service):
            typer.echo("  the read models match the live ones")
    raise typer.Exit(1 if any(diffs.values()) else 0)


def _suffixed(dsn: str, suffix: str) -> str:
    url = urlsplit(dsn)
    return urlunsplit(url._replace(path=url.path + suffix))


@audit.command("as-of")
def audit_as_of(
    service: ServiceChoice,
    stream_id: str,
    time: Annotated[str, typer.Argument(help="A date (the end of that day in Japan) or a time with its offset.")],
    source: Annotated[audit_lib.Source, typer.Option("--from")] = audit_lib.Source.DB,
    url: Annotated[str | None, typer.Option(help="The service's REST API, for --from rest.")] = None,
    token: Token = None,
) -> None:
    """Print one aggregate's state as it was at TIME, folded from the events recorded by then."""
    try:
        point = as_of_param(time)
    except InvalidParameter as error:
        raise typer.BadParameter(error.detail, param_hint="TIME") from None
    assert point is not None  # a time was given
    settings = _settings(service.value)
    events = asyncio.run(audit_lib.stream_events(settings, source, stream_id, point.until, url=url, token=token))
    if not events:
        typer.echo(f"{service.value}: stream {stream_id} has no events recorded by {point.until.isoformat()}", err=True)
        raise typer.Exit(1)
    aggregate, state, version = replay_lib.aggregate_state(_definition(settings), events)
    typer.echo(
        orjson.dumps(
            {
                "service": service.value,
                "stream_id": stream_id,
                "aggregate": aggregate.name,
                "as_of": point.until.isoformat(),
                "version": version,
                "recorded_at": format_time(events[-1].time),
                "state": to_jsonable_python(state),
            },
            option=orjson.OPT_INDENT_2,
        )
    )


@app.command("rebuild")
def rebuild(service: ServiceChoice) -> None:
    """Rebuild SERVICE's projections from its own store, while it keeps serving."""
    settings = _settings(service.value)
    definition = _definition(settings)

    async def run() -> replay_lib.RebuildResult:
        pool = await create_pool(settings.database_url, max_size=2)
        try:
            with _progress() as progress:
                return await replay_lib.rebuild(definition, pool, progress)
        finally:
            await pool.close()

    result = asyncio.run(run())
    typer.echo(f"{service.value}: {result.projected} streams projected again ({result.skipped} without a projection)")


# Dead letters: `titp dlq list|redrive`; the work is in shared/consumer.py.

dlq = typer.Typer(no_args_is_help=True, help="See and re-drive the messages a subscriber dead-lettered.")
app.add_typer(dlq, name="dlq")


def _dlq_topic(settings: ServiceSettings) -> str:
    return settings.topic(dlq_topic(settings.service))


@dlq.command("list")
def dlq_list(
    service: ServiceChoice,
    pending: Annotated[bool, typer.Option("--pending", help="Only those not re-driven yet.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per message and line.")] = False,
) -> None:
    """Print the messages on SERVICE's dead-letter topic with the reason each was dead-lettered.

    Reads without consuming: the DLQ keeps every message, marked `redriven` once re-driven.
    """
    settings = _settings(service.value)
    letters = asyncio.run(consumer_lib.dead_letters(settings.kafka_bootstrap_servers, _dlq_topic(settings)))
    for letter in letters:
        if pending and letter.redriven:
            continue
        if as_json:
            typer.echo(orjson.dumps(letter.to_json()))
            continue
        event = (
            f"event {letter.event_id} {letter.event_type} of {letter.subject}"
            if letter.event_id
            else "not a CloudEvent"
        )
        typer.echo(
            f"[{letter.partition}]@{letter.offset} {'redriven' if letter.redriven else 'PENDING'}"
            f" {letter.dead_lettered_at.isoformat()} from {letter.original} after {letter.attempts} attempt(s):"
            f" {event}\n  {letter.error_type}: {letter.error}"
        )
    if not as_json:
        waiting = sum(not letter.redriven for letter in letters)
        typer.echo(f"{_dlq_topic(settings)}: {len(letters)} messages, {waiting} not re-driven", err=True)


@dlq.command("redrive")
def dlq_redrive(service: ServiceChoice) -> None:
    """Publish SERVICE's dead-lettered messages back to their original topics, after the cause is fixed.

    Only those not re-driven before, up to the DLQ's end now; the subscriber's inbox skips any event
    it had applied after all. A message that fails again returns to the DLQ.
    """
    settings = _settings(service.value)
    count = asyncio.run(consumer_lib.redrive(settings.kafka_bootstrap_servers, _dlq_topic(settings)))
    typer.echo(f"{_dlq_topic(settings)}: re-drove {count} messages to their original topics")


@app.command("asyncapi")
def asyncapi(out: Annotated[Path | None, typer.Option(help="Write here instead of printing.")] = None) -> None:
    """Print the AsyncAPI 3 document of every service's events (committed as docs/asyncapi.yaml)."""
    document = event_catalogue()
    if out:
        out.write_text(document)
    else:
        typer.echo(document, nl=False)


def event_catalogue() -> str:
    """The document of the four services' registries: `<service>_events` in contracts/<service>.py."""
    return render(
        asyncapi_document([getattr(importlib.import_module(f"contracts.{s}"), f"{s}_events") for s in SERVICES])
    )
