"""The `titp` command. Each command is a thin layer over a function of `shared` or a service."""

import asyncio
import importlib
import logging
import re
import sys
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from contextlib import contextmanager
from enum import StrEnum
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Annotated, Any, TypeVar, cast
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import orjson
import typer
from aiokafka.errors import KafkaConnectionError, KafkaError, KafkaTimeoutError
from pydantic_core import to_jsonable_python
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from typer.core import TyperGroup

from shared import consumer as consumer_lib
from shared import outbox as outbox_lib
from shared.audit import log as audit_lib
from shared.audit import replay as replay_lib
from shared.audit.asyncapi import event_catalogue
from shared.db import connect, create_pool
from shared.errors import one_line
from shared.events import EventTypes, format_time
from shared.service import ServiceDefinition, Wiring
from shared.settings import SERVICES, InvalidSettings, ServiceSettings, load_settings
from shared.store import EventStore, ParkedEvent
from shared.topics import dlq_topic, service_topic
from shared.web import auth
from shared.web import status as status_lib
from shared.web.app import RELAY_LOCK
from shared.web.http import point_in_time
from shared.web.problems import InvalidParameter
from tools import seed

T = TypeVar("T")
PACKAGE = "titp-registry"  # the distribution `titp` comes with (pyproject.toml)


class _Operator(TyperGroup):
    """`titp` itself: whatever the command, a server out of reach ends it with one line on stderr and exit 2."""

    def invoke(self, ctx: Any) -> Any:  # typer's own (vendored) click.Context
        _used.clear()
        for chatty in ("aiokafka", "asyncio"):  # their retries and leaks of a broker out of reach: the error says it
            logging.getLogger(chatty).setLevel(logging.CRITICAL)
        try:
            return super().invoke(ctx)
        except OUT_OF_REACH as error:
            raise _could_not_run(error) from None
        except BaseExceptionGroup as group:  # e.g. from a TaskGroup: report its first server out of reach
            reached = group.subgroup(lambda e: isinstance(e, OUT_OF_REACH))
            if reached is None:
                raise
            raise _could_not_run(_first(reached)) from None


app = typer.Typer(no_args_is_help=True, cls=_Operator)


def _version(show: bool) -> None:
    if show:
        try:
            typer.echo(f"titp {package_version(PACKAGE)}")
        except PackageNotFoundError:
            typer.echo("titp (not installed: no version)")
        raise typer.Exit()


@app.callback()
def titp(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Operate the TITP back office.

    Data (tables, JSON) goes to stdout; progress, counts and errors to stderr. Exit 2: could not run (a server
    out of reach, bad arguments, a destructive command without --yes where nobody can be asked).
    """


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

audit = typer.Typer(
    no_args_is_help=True,
    help="Verify, export and replay the services' history.\n\nExit codes: 0 clean; 1 differences found (a"
    " finding, a bad or conflicting record, read models that differ); 2 could not run (no broker or database,"
    " bad arguments). Bad records are named by topic, partition and offset (or file and line) and left out; records"
    " repeated unchanged are skipped and counted.",
)
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
        settings = load_settings(service, log_json=False, log_level="WARNING")
    except InvalidSettings as error:
        raise typer.BadParameter(str(error)) from None
    _used.append(settings)  # where its servers are, for the line saying one is out of reach
    return settings


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

        failed = True
        try:
            yield task
            failed = False
        finally:
            if (
                failed or not bars.task_ids
            ):  # the error's one line says it all; or nothing to show: not even a blank line
                bars.live.transient = True
                bars.live.stop()
                bars.disable = True  # so that leaving `with` adds no empty line either


COULD_NOT_RUN = 2  # exit code: the tool could not do its work (no broker, no database, bad arguments)


# What a broker, database or service out of reach raises: exit 2 ("could not run") with one line, no traceback.
OUT_OF_REACH = (OSError, TimeoutError, KafkaError, asyncpg.PostgresError, asyncpg.InterfaceError, httpx.HTTPError)
_used: list[ServiceSettings] = []  # the settings this run of a command loaded (`_settings`)


def _first(group: BaseExceptionGroup) -> BaseException:
    error: BaseException = group
    while isinstance(error, BaseExceptionGroup):
        error = error.exceptions[0]
    return error


def _could_not_run(error: BaseException) -> typer.Exit:
    typer.echo(f"could not run: {out_of_reach(error, _used)}", err=True)
    return typer.Exit(COULD_NOT_RUN)


def out_of_reach(error: BaseException, used: list[ServiceSettings]) -> str:
    """One line: which server could not be reached (host:port), the setting naming it, and what was said."""
    said, detail = " ".join(str(error).split()), one_line(error)
    if isinstance(error, KafkaError):
        servers = sorted({s.kafka_bootstrap_servers for s in used})
        where = " or ".join(servers) if servers else "the broker"
        return f"Kafka at {where} (TITP_KAFKA_BOOTSTRAP_SERVERS): {detail}"
    if isinstance(error, httpx.HTTPError):
        try:
            origin = f"{error.request.url.scheme}://{error.request.url.netloc.decode()}"
        except RuntimeError:  # no request: nothing to name
            return detail
        return f"{origin} (--url SERVICE=URL, else TITP_HTTP_HOST and TITP_HTTP_PORT): {detail}"
    if isinstance(error, OSError) and error.filename is not None:  # a file, not a server
        return detail
    places: dict[str, list[str]] = {}
    for settings in used:
        for setting, dsn in (
            ("TITP_DATABASE_URL", settings.database_url),
            ("TITP_MIGRATION_DATABASE_URL", settings.migration_database_url),
        ):
            if dsn and setting not in places.setdefault(_host_port(dsn), []):
                places[_host_port(dsn)].append(setting)
    named = {place: names for place, names in places.items() if re.search(rf"\b{place.rpartition(':')[2]}\b", said)}
    shown = named or places
    if not shown:
        return detail
    where = " or ".join(f"{place} ({', '.join(names)})" for place, names in sorted(shown.items()))
    return f"PostgreSQL at {where}: {detail}"


def _host_port(dsn: str) -> str:
    url = urlsplit(dsn)
    try:
        port = url.port or 5432
    except ValueError:
        port = 5432
    return f"{url.hostname or 'localhost'}:{port}"


def _confirm(action: str, yes: bool) -> None:
    """Go on if `--yes` was given or the operator says yes on the terminal; refuse where nobody can be asked."""
    if yes:
        return
    if not sys.stdin.isatty():
        typer.echo(f"{action}: refused without --yes (stdin is not a terminal to ask on)", err=True)
        raise typer.Exit(COULD_NOT_RUN)
    if not typer.confirm(f"{action[0].upper()}{action[1:]}?", err=True):
        typer.echo("nothing done", err=True)
        raise typer.Exit(1)


Yes = Annotated[bool, typer.Option("--yes", "-y", help="Do it without asking (needed where stdin is no terminal).")]
DryRun = Annotated[bool, typer.Option("--dry-run", help="Say what would be done, and change nothing.")]


def _run(work: Coroutine[Any, Any, T]) -> T:
    """Run the audit work; its refusals exit with one line, no traceback (a server out of reach: `_Operator`)."""
    try:
        return asyncio.run(work)
    except replay_lib.ReplayError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(COULD_NOT_RUN) from None
    except audit_lib.BadRecord as error:  # where the tool cannot leave a record out and go on
        typer.echo(f"a record that is no event: {error}", err=True)
        raise typer.Exit(1) from None


def _left_out(service: str, unreadable: list[str], duplicates: int) -> None:
    for problem in unreadable:
        typer.echo(f"{service}: record left out: {problem}", err=True)
    if duplicates:
        typer.echo(f"{service}: {duplicates} records repeated unchanged, skipped", err=True)


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
    checks offline. Exit 0: exported; 1: records were left out (named); 2: could not run.
    """
    logs = _run(_read_logs(_services(services), source, _urls(url), token))
    written = audit_lib.write_bundle(
        out, {log.service: log.events for log in logs}, {log.service: log.keys for log in logs}
    )
    for log in logs:
        typer.echo(f"{log.service}: {written[log.service]} events -> {out / (log.service + '.jsonl')}")
        _left_out(log.service, log.unreadable, log.duplicates)
        if not log.keys:
            typer.echo(f"{log.service}: no public key found; its checkpoints cannot be verified", err=True)
    raise typer.Exit(1 if any(log.unreadable for log in logs) else 0)


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

    Records that are no event, or that repeat an event's id with other content, are named by where they are
    (topic, partition and offset; file and line) and left out; records repeated unchanged are skipped and counted.
    Exit 0: everything holds; 1: findings or records left out; 2: could not run.
    """
    left_out: dict[str, tuple[list[str], int]] = {}
    if bundle:
        records, keys, problems = audit_lib.read_bundle_records(bundle)
        logs = {service: r.events for service, r in records.items()}
        left_out = {service: (r.problems, r.duplicates) for service, r in records.items()}
        for problem in problems:
            typer.echo(problem, err=True)
        chosen = _services(services) if services else sorted(logs)
    else:
        read = _run(_read_logs(_services(services), source, _urls(url), token))
        logs, keys = {log.service: log.events for log in read}, {log.service: log.keys for log in read}
        left_out = {log.service: (log.unreadable, log.duplicates) for log in read}
        chosen = list(logs)
    if public_keys:
        try:
            keys = audit_lib.read_public_keys(public_keys)
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise typer.BadParameter(f"not a public keys file: {error}", param_hint="--public-keys") from None
    reports = [audit_lib.verify_log(s, logs.get(s, []), keys.get(s, [])) for s in chosen]
    for report in reports:
        unreadable, duplicates = left_out.get(report.service, ([], 0))
        if as_json:
            typer.echo(
                orjson.dumps(
                    {
                        **report.to_json(),
                        "ok": report.ok and not unreadable,
                        "records_left_out": unreadable,
                        "duplicates_skipped": duplicates,
                    }
                )
            )
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
        for problem in unreadable:
            typer.echo(f"  record left out: {problem}")
        if duplicates:
            typer.echo(f"  {duplicates} records repeated unchanged, skipped")
    clean = all(r.ok and not left_out.get(r.service, ([], 0))[0] for r in reports)
    raise typer.Exit(0 if clean else 1)


@audit.command("replay")
def audit_replay(
    services: Services = None,
    into: Annotated[
        str | None,
        typer.Option(
            help="The database URL to replay into, with {service} for the"
            " service's name. Default: its owner's URL (TITP_MIGRATION_DATABASE_URL) + _replay."
        ),
    ] = None,
    recreate: Annotated[bool, typer.Option(help="Drop the databases to replay into first (asks; see --yes).")] = False,
    diff: Annotated[bool, typer.Option(help="Compare the replayed read models with the live ones.")] = True,
    dry_run: DryRun = False,
    yes: Yes = False,
) -> None:
    """Rebuild every service into fresh databases from the topics alone, and diff them against the live ones.

    The topics are read from offset 0; the read models are compared row by row. Bad records are named by
    topic, partition and offset and left out; records repeated unchanged are skipped and counted.
    Exit 0: the read models match; 1: they differ, or records were left out; 2: could not run.
    """
    settings = {s: _settings(s) for s in _services(services)}
    targets = {
        s: into.format(service=s) if into else _suffixed(st.migration_url(), "_replay") for s, st in settings.items()
    }

    if dry_run:
        for service, target in targets.items():
            first = "drop and create" if recreate else "create if missing"
            then = ", then compare its read models with the live ones" if diff else ""
            typer.echo(f"{service}: would {first} {target} and replay the topics into it{then}")
        typer.echo("dry run: nothing done", err=True)
        return
    if recreate:
        _confirm(f"drop and create again {', '.join(targets.values())}", yes)

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

    results, diffs = _run(run())
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
        for problem in result.left_out:
            typer.echo(f"  record left out: {problem}")
        if result.duplicates:
            typer.echo(f"  {result.duplicates} records repeated unchanged, skipped")
    raise typer.Exit(1 if any(diffs.values()) or any(r.left_out for r in results.values()) else 0)


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
        point = point_in_time(time)
    except InvalidParameter as error:
        raise typer.BadParameter(error.detail, param_hint="TIME") from None
    assert point is not None  # a time was given
    settings = _settings(service.value)
    events = _run(audit_lib.stream_events(settings, source, stream_id, point.until, url=url, token=token))
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
def rebuild(
    service: ServiceChoice,
    projection: Annotated[
        list[str] | None,
        typer.Option("--projection", "-p", help="Only this projection (repeat for several). Default: all of them."),
    ] = None,
) -> None:
    """Rebuild SERVICE's projections (read models) from its own store, while it keeps serving.

    Progress goes to stderr; the projections rebuilt, their streams and the log position they are at least as recent
    as go to stdout."""
    settings = _settings(service.value)
    definition = _definition(settings)
    known = replay_lib.projections(definition)
    unknown = sorted(set(projection or ()) - set(known))
    if unknown:
        raise typer.BadParameter(
            f"{', '.join(unknown)}: not a projection of {service.value} (it has: {', '.join(sorted(known))})",
            param_hint="--projection",
        )

    async def run() -> replay_lib.RebuildResult:
        pool = await create_pool(settings.migration_url(), max_size=2)  # as the owner: an operator's write
        try:
            with _progress() as progress:
                return await replay_lib.rebuild(definition, pool, progress, only=projection)
        finally:
            await pool.close()

    result = _run(run())
    typer.echo(
        f"{service.value}: {result.projected} streams projected again, as of position {result.as_of_position or 0}"
        f" ({result.skipped} streams of no projection rebuilt)"
    )
    for name in sorted(set(projection or known)):
        typer.echo(f"{service.value}: {name}: {result.by_projection.get(name, 0)} streams projected again")


@app.command("status")
def status(
    service: Annotated[list[ServiceChoice] | None, typer.Argument(help="Default: all four.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="A JSON array, one object per service.")] = False,
) -> None:
    """Show what each service is doing, read from its database and Kafka (the service need not run): the relay's
    leader and backlog, the consumer group's lag per partition, the dead letters, the last checkpoint and the events
    since, and what it has applied of each other service. The same is served at GET /v1/status.

    Exit codes: 0 all was read; 1 some part could not be read (said under `problems`)."""
    statuses = [asyncio.run(_status(_settings(name))) for name in _services(service)]
    if as_json:
        typer.echo(orjson.dumps([s.model_dump(mode="json") for s in statuses], option=orjson.OPT_INDENT_2))
    else:
        console = Console(soft_wrap=True)
        for one in statuses:
            _print_status(console, one)
    if any(s.problems for s in statuses):
        raise typer.Exit(1)


async def _status(settings: ServiceSettings) -> status_lib.ServiceStatus:
    wiring = Wiring.of(_definition(settings), settings)
    return await status_lib.read_status(
        wiring, settings.kafka_bootstrap_servers, settings.database_url, lock_key=RELAY_LOCK
    )


def _print_columns(console: Console, header: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
    """Rows under a header, in columns as wide as their widest cell, never cut (a table rich would fit to 80)."""
    cells = [header, *[tuple(str(cell) for cell in row) for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    for row in cells:
        console.print(
            " " * 15 + "  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip(), markup=False
        )


def _print_status(console: Console, status: status_lib.ServiceStatus) -> None:
    """One service's status as a few lines and tables, for a person at a terminal."""
    console.print(f"[bold]{status.service}[/bold]  read {status.read_at:%Y-%m-%d %H:%M:%S} UTC")
    relay = status.relay
    if relay is not None:
        leader = f"{relay.leader}, since {relay.leader_since:%Y-%m-%d %H:%M:%S}" if relay.leader_since else relay.leader
        oldest = f", oldest {relay.oldest_unpublished_s:.1f} s old" if relay.oldest_unpublished_s is not None else ""
        console.print(f"  relay        leader: {leader or 'NONE: nothing is published'}")
        console.print(
            f"               backlog {relay.backlog}{oldest}; parked {relay.parked};"
            f" last position {relay.last_position}"
        )
    checkpoint = status.checkpoint
    if checkpoint is not None:
        console.print(
            f"  checkpoint   #{checkpoint.version} through position {checkpoint.through_position}"
            f" ({checkpoint.events} events), signed {checkpoint.signed_at:%Y-%m-%d %H:%M:%S};"
            f" {status.unsealed} events since"
        )
    elif status.unsealed is not None:
        console.print(f"  checkpoint   none yet; {status.unsealed} events unsealed")
    if status.dead_letters is not None:
        letters = status.dead_letters
        console.print(f"  dead letters {letters.topic}: {letters.messages} messages, {letters.pending} not re-driven")
    if status.consumer is not None:
        console.print(f"  consumer     group {status.consumer.group}: lag {status.consumer.lag}")
        _print_columns(
            console,
            ("topic", "partition", "committed", "end", "lag"),
            [
                (p.topic, p.partition, "-" if p.committed is None else p.committed, p.end, p.lag)
                for p in status.consumer.partitions
            ],
        )
    if status.sources:
        console.print("  applied of the others")
        _print_columns(
            console,
            ("source", "last position", "applied at", "streams"),
            [
                (
                    s.source,
                    "-" if s.last_position is None else s.last_position,
                    f"{s.last_applied_at:%Y-%m-%d %H:%M:%S}" if s.last_applied_at else "-",
                    s.streams,
                )
                for s in status.sources
            ],
        )
    for problem in status.problems:
        console.print(f"  [red]problem[/red]      {problem}")
    console.print()


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
        if letter.event_id:
            event = f"event {letter.event_id} {letter.event_type} of {letter.subject}"
        elif letter.not_copied:
            event = f"a reference to a record of {letter.size} bytes left at {letter.original} ({letter.not_copied})"
        else:
            event = "not a CloudEvent"
        typer.echo(
            f"[{letter.partition}]@{letter.offset} {'redriven' if letter.redriven else 'PENDING'}"
            f" {letter.dead_lettered_at.isoformat()} from {letter.original} after {letter.attempts} attempt(s):"
            f" {event}\n  {letter.error_type}: {letter.error}"
        )
    if not as_json:
        waiting = sum(not letter.redriven for letter in letters)
        typer.echo(f"{_dlq_topic(settings)}: {len(letters)} messages, {waiting} not re-driven", err=True)


@dlq.command("redrive")
def dlq_redrive(service: ServiceChoice, dry_run: DryRun = False, yes: Yes = False) -> None:
    """Publish SERVICE's dead-lettered messages back to their original topics, after the cause is fixed.

    Only those not re-driven before, up to the DLQ's end now; the subscriber's inbox skips any event
    it had applied after all. A message that fails again returns to the DLQ. `--dry-run` lists them instead.
    """
    settings = _settings(service.value)
    if dry_run:
        letters = asyncio.run(consumer_lib.dead_letters(settings.kafka_bootstrap_servers, _dlq_topic(settings)))
        waiting = [letter for letter in letters if not letter.redriven and not letter.not_copied]
        for letter in waiting:
            event = (
                f"event {letter.event_id} {letter.event_type} of {letter.subject}" if letter.event_id else "a record"
            )
            typer.echo(f"[{letter.partition}]@{letter.offset} {event} -> {letter.original.partition('[')[0]}")
        typer.echo(f"{_dlq_topic(settings)}: would re-drive {len(waiting)} messages to their original topics")
        typer.echo("dry run: nothing sent", err=True)
        return
    _confirm(f"re-drive the pending messages of {_dlq_topic(settings)} to their original topics", yes)
    count = asyncio.run(consumer_lib.redrive(settings.kafka_bootstrap_servers, _dlq_topic(settings)))
    typer.echo(f"{_dlq_topic(settings)}: re-drove {count} messages to their original topics")


# The outbox: `titp outbox parked|retry` and `titp audit republish`; the work is in shared/outbox.py.

outbox = typer.Typer(no_args_is_help=True, help="See and retry the events the relay could not publish.")
app.add_typer(outbox, name="outbox")


def _own_store(settings: ServiceSettings) -> EventStore:
    return EventStore(EventTypes(settings.service))


async def _on_store(settings: ServiceSettings, work: Callable[[EventStore, asyncpg.Connection], Awaitable[T]]) -> T:
    """`work(store, conn)` on the service's own store, over one connection of its own."""
    conn = await connect(settings.database_url)
    try:
        return await work(_own_store(settings), conn)
    finally:
        await conn.close()


@outbox.command("parked")
def outbox_parked(
    service: ServiceChoice,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per event and line.")] = False,
) -> None:
    """Print SERVICE's parked events (the broker refused them for good, or an earlier event of their stream)."""
    settings = _settings(service.value)

    parked: list[ParkedEvent] = asyncio.run(_on_store(settings, lambda store, conn: store.parked(conn)))
    for event in parked:
        if as_json:
            typer.echo(orjson.dumps(event.__dict__, default=str))
        else:
            typer.echo(
                f"@{event.position} {format_time(event.parked_at)} {event.type} v{event.version} of"
                f" {event.stream_id} (event {event.id}):\n  {event.error}"
            )
    if not as_json:
        typer.echo(f"{service.value}: {len(parked)} parked events", err=True)


@outbox.command("retry")
def outbox_retry(service: ServiceChoice, dry_run: DryRun = False, yes: Yes = False) -> None:
    """Put SERVICE's parked events back in the outbox, after the cause is fixed (e.g. the topic's
    max.message.bytes raised): the relay publishes them in position order; one refused again is parked again.
    `--dry-run` lists them instead."""
    settings = _settings(service.value)
    if dry_run:
        parked: list[ParkedEvent] = asyncio.run(_on_store(settings, lambda store, conn: store.parked(conn)))
        for event in parked:
            typer.echo(f"@{event.position} {event.type} v{event.version} of {event.stream_id} (event {event.id})")
        typer.echo(f"{service.value}: would put {len(parked)} parked events back in the outbox")
        typer.echo("dry run: nothing changed", err=True)
        return
    _confirm(f"put {service.value}'s parked events back in the outbox", yes)

    back: int = asyncio.run(_on_store(settings, lambda store, conn: store.unpark(conn)))
    typer.echo(f"{service.value}: {back} parked events back in the outbox")


@audit.command("republish")
def audit_republish(service: ServiceChoice, dry_run: DryRun = False, yes: Yes = False) -> None:
    """Publish SERVICE's whole history from its store to its topic again (e.g. after the topic was deleted):
    every event in position order, the same bytes, key and headers as the relay's; creates the topic if missing.

    Stop SERVICE's instances first (the command refuses while its relay runs), start them after. Consumers
    skip the events they had applied (by event id). Parked events stay parked: `titp outbox retry`.
    `--dry-run` counts them instead. Exit 0: done; 1: the broker refused an event; 2: could not run.
    """
    settings = _settings(service.value)
    topic = settings.topic(service_topic(service.value))
    if dry_run:
        total = asyncio.run(_on_store(settings, lambda store, conn: conn.fetchval("SELECT count(*) FROM events")))
        typer.echo(f"{service.value}: would republish {total} events to {topic}")
        typer.echo("dry run: nothing sent", err=True)
        return
    _confirm(f"publish {service.value}'s whole history to {topic} again", yes)

    async def run() -> int:
        pool = await create_pool(settings.database_url, max_size=2)
        try:
            async with pool.acquire() as conn:
                total = await conn.fetchval("SELECT count(*) FROM events")
            with _progress() as progress:
                return await outbox_lib.republish(
                    pool,
                    settings.database_url,
                    _own_store(settings),
                    topic,
                    settings.kafka_bootstrap_servers,
                    lock_key=RELAY_LOCK,
                    partitions=settings.topic_partitions,
                    replication=settings.topic_replication,
                    progress=progress(f"{service.value} -> {topic}", total),
                )
        finally:
            await pool.close()

    try:
        count = asyncio.run(run())
    except outbox_lib.RelayRunning as error:
        typer.echo(f"{service.value}: {error}", err=True)
        raise typer.Exit(2) from None
    except KafkaError as error:
        if error.retriable or isinstance(error, (KafkaConnectionError, KafkaTimeoutError)):
            raise _could_not_run(error) from None  # the broker is out of reach, not refusing an event
        typer.echo(f"{service.value}: publishing to {topic} failed: {type(error).__name__}: {error}", err=True)
        raise typer.Exit(1) from None
    except OUT_OF_REACH as error:  # the database
        raise _could_not_run(error) from None
    typer.echo(f"{service.value}: republished {count} events to {topic}")


@app.command("asyncapi")
def asyncapi(out: Annotated[Path | None, typer.Option(help="Write here instead of printing.")] = None) -> None:
    """Print the AsyncAPI 3 document of every service's events (committed as docs/asyncapi.yaml)."""
    document = event_catalogue()
    if out:
        out.write_text(document)
    else:
        typer.echo(document, nl=False)
