"""The `titp` command as an operator meets it (issue 23, item 4): a server out of reach is one line on stderr and
exit 2, for every command that connects; `--version` and shell completion; the destructive commands ask first (or
want `--yes` where nobody can be asked) and `--dry-run` says what they would do and changes nothing."""

import asyncio
import os
import pty
import subprocess
import sys
from datetime import date
from importlib.metadata import version
from pathlib import Path

import asyncpg
import orjson
import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from shared.events import EventPayload, EventTypes
from shared.kafka import client_options
from shared.store import EventStore
from shared.topics import dlq_topic, service_topic
from tests.helpers import eventually, titp

types = EventTypes("registry")  # the CLI reads the store as the service's


@types.register
class NoteTaken(EventPayload):
    note: str


store = EventStore(types)
TITP = str(Path(sys.executable).parent / "titp")
NO_DATABASE = "postgresql://titp:titp@127.0.0.1:1/titp_registry"
NO_BROKER = "127.0.0.1:1"
REFUSED = "refused without --yes (stdin is not a terminal to ask on)\n"


# Servers out of reach: one line naming the server and its setting, exit 2, no traceback.

CONNECTING = [
    (["audit", "verify", "-s", "registry"], "PostgreSQL at 127.0.0.1:1 (TITP_DATABASE_URL)"),
    (["audit", "verify", "--from", "kafka", "-s", "registry"], "Kafka at 127.0.0.1:1 (TITP_KAFKA_BOOTSTRAP_SERVERS)"),
    (["audit", "export", "{tmp}/bundle", "-s", "registry"], "Kafka at 127.0.0.1:1 (TITP_KAFKA_BOOTSTRAP_SERVERS)"),
    (["audit", "as-of", "registry", "some-stream", "2026-01-01"], "PostgreSQL at 127.0.0.1:1 (TITP_DATABASE_URL)"),
    (["audit", "replay", "-s", "registry"], "PostgreSQL at 127.0.0.1:1 (TITP_DATABASE_URL)"),
    (["audit", "republish", "registry", "--yes"], "PostgreSQL at 127.0.0.1:1 (TITP_DATABASE_URL)"),
    (["audit", "republish", "registry", "--dry-run"], "PostgreSQL at 127.0.0.1:1 (TITP_DATABASE_URL)"),
    (["rebuild", "registry"], "PostgreSQL at 127.0.0.1:1 (TITP_DATABASE_URL)"),
    (["dlq", "list", "registry"], "Kafka at 127.0.0.1:1 (TITP_KAFKA_BOOTSTRAP_SERVERS)"),
    (["dlq", "redrive", "registry", "--yes"], "Kafka at 127.0.0.1:1 (TITP_KAFKA_BOOTSTRAP_SERVERS)"),
    (["dlq", "redrive", "registry", "--dry-run"], "Kafka at 127.0.0.1:1 (TITP_KAFKA_BOOTSTRAP_SERVERS)"),
    (["outbox", "parked", "registry"], "PostgreSQL at 127.0.0.1:1 (TITP_DATABASE_URL)"),
    (["outbox", "retry", "registry", "--yes"], "PostgreSQL at 127.0.0.1:1 (TITP_DATABASE_URL)"),
    (["outbox", "retry", "registry", "--dry-run"], "PostgreSQL at 127.0.0.1:1 (TITP_DATABASE_URL)"),
    (
        ["audit", "verify", "--from", "rest", "-s", "registry", "--url", "registry=http://127.0.0.1:1"],
        "http://127.0.0.1:1 (--url SERVICE=URL",
    ),
    (
        ["seed", "--scale", "0.001", "--checkpoint-dir", "{tmp}/seed", "--registry-url", "http://127.0.0.1:1"],
        "registry at http://127.0.0.1:1 (--registry-url, or TITP_SEED_REGISTRY_URL)",
    ),
]


@pytest.fixture(scope="module")
async def out_of_reach(tmp_path_factory) -> dict[str, tuple[int, str, str]]:
    """Every CONNECTING command as an operator runs it, each in a folder of its own: " ".join(args) -> exit code,
    stdout, stderr. Run a few at a time: each is a process of its own, most of its time spent importing."""
    environment = {"TITP_DATABASE_URL": NO_DATABASE, "TITP_KAFKA_BOOTSTRAP_SERVERS": NO_BROKER}
    at_once = asyncio.Semaphore(4)

    async def run(args: list[str]) -> tuple[int, str, str]:
        folder = tmp_path_factory.mktemp("out-of-reach")
        async with at_once:
            return await titp(*(a.format(tmp=folder) for a in args), **environment)

    results = await asyncio.gather(*(run(args) for args, _ in CONNECTING))
    return {" ".join(args): result for (args, _), result in zip(CONNECTING, results, strict=True)}


@pytest.mark.parametrize(("args", "named"), CONNECTING, ids=lambda v: " ".join(v) if isinstance(v, list) else None)
async def test_a_server_out_of_reach_is_one_line_naming_it_and_its_setting(args, named, out_of_reach):
    code, out, err = out_of_reach[" ".join(args)]
    assert code == 2, err
    assert out == ""
    assert len(err.splitlines()) == 1 and err.startswith(f"could not run: {named}"), err


async def test_the_migration_database_is_named_when_it_is_the_one_out_of_reach(fresh_database):
    elsewhere = {"TITP_DATABASE_URL": fresh_database, "TITP_MIGRATION_DATABASE_URL": "postgresql://o@127.0.0.1:2/x"}
    code, _, err = await titp("rebuild", "registry", **elsewhere)
    assert code == 2
    assert err.startswith("could not run: PostgreSQL at 127.0.0.1:2 (TITP_MIGRATION_DATABASE_URL): "), err
    assert len(err.splitlines()) == 1, err


# The version and shell completion.


async def test_version_is_the_installed_packages():
    code, out, err = await titp("--version")
    assert (code, out, err) == (0, f"titp {version('titp-registry')}\n", "")


def test_the_completion_script_is_printed_for_the_shell_it_runs_in():
    # The shell is found from the process tree (typer, through shellingham): here bash.
    done = subprocess.run(["bash", "-c", f"{TITP} --show-completion"], capture_output=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    script = done.stdout.decode()
    assert "_TITP_COMPLETE=complete_bash" in script and "complete -o default -F _titp_completion titp" in script, script


# Destructive commands: asked on a terminal, refused without --yes elsewhere, --dry-run changes nothing.


async def _parked(pool, *streams: str) -> None:
    """Events of `streams` parked, as the relay leaves those the broker refused."""
    for stream in streams:
        async with pool.acquire() as conn, conn.transaction():
            await store.append(conn, stream, 0, [NoteTaken(note="refused")])
    await pool.execute("DELETE FROM outbox")
    await pool.execute(
        "INSERT INTO outbox_parked (position, stream_id, error) SELECT position, stream_id, 'too large' FROM events"
    )


async def test_outbox_retry_dry_run_lists_and_keeps_them_parked_and_without_yes_it_refuses(pool, fresh_database):
    await _parked(pool, "stream-a", "stream-b")
    environment = {"TITP_DATABASE_URL": fresh_database}

    code, out, err = await titp("outbox", "retry", "registry", "--dry-run", **environment)
    assert code == 0, err
    lines = out.splitlines()
    assert [line.split()[1:5] for line in lines[:2]] == [
        ["titp.registry.NoteTaken.v1", "v1", "of", "stream-a"],
        ["titp.registry.NoteTaken.v1", "v1", "of", "stream-b"],
    ]
    assert lines[2] == "registry: would put 2 parked events back in the outbox"
    assert err == "dry run: nothing changed\n"
    # Check: nothing moved.
    assert await pool.fetchval("SELECT count(*) FROM outbox_parked") == 2
    assert await pool.fetchval("SELECT count(*) FROM outbox") == 0

    code, out, err = await titp("outbox", "retry", "registry", **environment)
    assert (code, out) == (2, "")
    assert err == f"put registry's parked events back in the outbox: {REFUSED}"
    assert await pool.fetchval("SELECT count(*) FROM outbox_parked") == 2

    code, out, err = await titp("outbox", "retry", "registry", "--yes", **environment)
    assert (code, out) == (0, "registry: 2 parked events back in the outbox\n"), err
    assert await pool.fetchval("SELECT count(*) FROM outbox_parked") == 0
    assert await pool.fetchval("SELECT count(*) FROM outbox") == 2


@pytest.fixture
async def admin(kafka_bootstrap):
    admin = AIOKafkaAdminClient(**client_options(kafka_bootstrap))
    await admin.start()
    yield admin
    await admin.close()


async def test_republish_dry_run_counts_and_creates_no_topic_and_without_yes_it_refuses(
    pool, fresh_database, admin, kafka_bootstrap, unique
):
    for n in range(3):
        async with pool.acquire() as conn, conn.transaction():
            await store.append(conn, f"stream-{n}", 0, [NoteTaken(note="kept")])
    prefix = f"test-cli-{unique}."
    topic = prefix + service_topic("registry")
    environment = {"TITP_DATABASE_URL": fresh_database, "TITP_KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap}

    code, out, err = await titp("audit", "republish", "registry", "--dry-run", TITP_TOPIC_PREFIX=prefix, **environment)
    assert (code, out, err) == (0, f"registry: would republish 3 events to {topic}\n", "dry run: nothing sent\n")
    code, out, err = await titp("audit", "republish", "registry", TITP_TOPIC_PREFIX=prefix, **environment)
    assert (code, out) == (2, "") and "without --yes" in err, err
    # Check: neither created the topic.
    assert topic not in await admin.list_topics()


async def test_dlq_redrive_dry_run_lists_and_leaves_them_pending_and_without_yes_it_refuses(
    admin, kafka_bootstrap, unique
):
    prefix = f"test-cli-{unique}."
    dlq, original = prefix + dlq_topic("registry"), f"{prefix}elsewhere"
    await admin.create_topics([NewTopic(name, num_partitions=1, replication_factor=1) for name in (dlq, original)])
    producer = AIOKafkaProducer(**client_options(kafka_bootstrap))
    await producer.start()
    try:
        headers = {
            "titp-original-topic": original,
            "titp-original-partition": "0",
            "titp-original-offset": "7",
            "titp-error-type": "KeyError",
            "titp-error": "'missing'",
            "titp-attempts": "3",
        }
        await producer.send_and_wait(
            dlq, b"not a cloudevent", key=b"k", headers=[(k, v.encode()) for k, v in headers.items()]
        )
    finally:
        await producer.stop()
    operator = {"TITP_KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap, "TITP_TOPIC_PREFIX": prefix}

    async def pending() -> list[dict]:
        code, out, err = await titp("dlq", "list", "registry", "--pending", "--json", **operator)
        assert code == 0, err
        return [orjson.loads(line) for line in out.splitlines()]

    code, out, err = await titp("dlq", "redrive", "registry", "--dry-run", **operator)
    assert code == 0, err
    assert out == f"[0]@0 a record -> {original}\n{dlq}: would re-drive 1 messages to their original topics\n"
    assert err == "dry run: nothing sent\n"
    code, out, err = await titp("dlq", "redrive", "registry", **operator)
    assert (code, out) == (2, "") and "without --yes" in err, err
    # Check: still pending, and nothing reached the original topic.
    assert [letter["offset"] for letter in await pending()] == [0]
    ends = await _end_offsets(kafka_bootstrap, original)
    assert ends == [0]

    code, out, err = await titp("dlq", "redrive", "registry", "--yes", **operator)
    assert (code, out) == (0, f"{dlq}: re-drove 1 messages to their original topics\n"), err
    assert await pending() == []
    await eventually(lambda: _moved(kafka_bootstrap, original), message="the re-driven message did not arrive")


async def _end_offsets(bootstrap: str, topic: str) -> list[int]:
    from tests.helpers import topic_end_offsets

    return list((await topic_end_offsets(bootstrap, topic)).values())


async def _moved(bootstrap: str, topic: str) -> bool:
    return await _end_offsets(bootstrap, topic) == [1]


async def test_replay_recreate_dry_run_creates_nothing_and_without_yes_it_refuses(fresh_database, admin_dsn, unique):
    target = fresh_database.rsplit("/", 1)[0] + f"/titp_test_replay_{unique}"
    environment = {"TITP_DATABASE_URL": fresh_database}
    args = ("audit", "replay", "-s", "registry", "--into", target, "--recreate")

    code, out, err = await titp(*args, "--dry-run", **environment)
    assert code == 0, err
    assert out == (
        f"registry: would drop and create {target} and replay the topics into it,"
        " then compare its read models with the live ones\n"
    )
    code, out, err = await titp(*args, **environment)
    assert (code, out, err) == (2, "", f"drop and create again {target}: {REFUSED}")
    # Check: no database was made.
    conn = await asyncpg.connect(admin_dsn)
    try:
        assert await conn.fetchval("SELECT count(*) FROM pg_database WHERE datname = $1", target.rsplit("/", 1)[1]) == 0
    finally:
        await conn.close()


def _on_a_terminal(args: list[str], answer: bytes, **env: str) -> tuple[int, str]:
    """`titp args` with a terminal for stdin, answering its question with `answer`: exit code and stderr."""
    controller, terminal = pty.openpty()
    try:
        os.write(controller, answer)
        done = subprocess.run(
            [TITP, *args], stdin=terminal, capture_output=True, env={**os.environ, **env}, timeout=60, check=False
        )
    finally:
        os.close(terminal)
        os.close(controller)
    return done.returncode, done.stderr.decode()


def test_on_a_terminal_it_asks_and_no_does_nothing_while_yes_goes_on():
    environment = {"TITP_DATABASE_URL": NO_DATABASE, "TITP_KAFKA_BOOTSTRAP_SERVERS": NO_BROKER}
    code, err = _on_a_terminal(["outbox", "retry", "registry"], b"n\n", **environment)
    assert code == 1, err
    assert err.startswith("Put registry's parked events back in the outbox? [y/N]:")
    assert err.endswith("nothing done\n"), err
    # Yes: it goes on, to the database (out of reach here).
    code, err = _on_a_terminal(["outbox", "retry", "registry"], b"y\n", **environment)
    assert code == 2, err
    assert err.startswith("Put registry's parked events back in the outbox? [y/N]:could not run: PostgreSQL at"), err


def test_the_seeders_progress_bars_go_to_stderr():
    from tools.seed import SERVICES_USED, Seeder, build_blueprint

    seeder = Seeder(build_blueprint(0.001, 1, date(2026, 12, 1)), dict.fromkeys(SERVICES_USED), {}, None)
    assert seeder.progress.console.stderr and not seeder.progress.disable
