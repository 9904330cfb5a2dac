"""The officers' console in the local stack (deploy/local/stack.sh): `up` and `run` start it after the four
services, `status` lists it with its pid and address, `down` stops it by the pid it recorded. It is not one of
the services (`stack.sh services`: no database, no topics). Checked without a running stack: a data folder of the
test's own, where a stand-in process plays the console `up` would have recorded."""

import os
import socket
import subprocess
import sys

import pytest

from shared.settings import SERVICES
from tests.deploy.conftest import LOCAL_STACK, local_stack_services, local_stack_variable


def stack(command: str, data, **env: str) -> subprocess.CompletedProcess:
    """`stack.sh command` on the data folder `data`, with none of this process's TITP_* settings."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("TITP_")}
    return subprocess.run(
        [str(LOCAL_STACK), command],
        env={**clean, "TITP_DATA_DIR": str(data), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def stand_in():
    """A process that lives until it is signalled: what a recorded pid of the console points at."""
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    yield process
    process.kill()
    process.wait()


def test_status_lists_the_console_after_the_services_when_nothing_runs(tmp_path):
    status = stack("status", tmp_path)

    assert status.returncode == 0, status.stderr
    assert status.stdout.splitlines() == [
        *(f"{name} stopped" for name in SERVICES),
        "console stopped",
        "kafka stopped",
        "postgres stopped",
    ]
    # Check: it is not one of the services, whose list the stacks, compose and k8s are held to.
    assert "console" not in [name for name, _, _ in local_stack_services()]


def test_a_running_console_is_listed_with_its_pid_and_address_and_down_stops_it(tmp_path, stand_in):
    (tmp_path / "services").mkdir()
    pidfile = tmp_path / "services" / "console.pid"
    pidfile.write_text(f"{stand_in.pid}\n")

    status = stack("status", tmp_path, TITP_CONSOLE_PORT="18000")
    assert f"console running pid {stand_in.pid} 127.0.0.1:18000" in status.stdout.splitlines(), status.stdout
    assert f"console running pid {stand_in.pid} 127.0.0.1:8000" in stack("status", tmp_path).stdout.splitlines()

    down = stack("down", tmp_path)
    assert down.returncode == 0, down.stderr
    assert f"stopping console (pid {stand_in.pid})" in down.stderr
    assert stand_in.wait(timeout=10) == -15  # SIGTERM, as the services get
    assert not pidfile.exists()
    assert "console stopped" in stack("status", tmp_path).stdout.splitlines()


def test_a_console_port_that_is_no_number_is_refused_by_name(tmp_path):
    status = stack("status", tmp_path, TITP_CONSOLE_PORT="eight-thousand")

    assert status.returncode == 1
    assert "TITP_CONSOLE_PORT must be a port number, not 'eight-thousand'" in status.stderr
    assert status.stdout == ""


def test_up_refuses_a_console_port_another_process_holds_before_it_starts_anything(tmp_path):
    # Were the port not checked, `up` would go on: on ports of its own, and with the Kafka jars marked fetched
    # (there are none), so that it fails at once instead of fetching them; `down` below stops what it started.
    ports = {"TITP_KAFKA_PORT": str(free_port()), "TITP_KAFKA_CONTROLLER_PORT": str(free_port())}
    ports["TITP_PG_PORT"] = str(free_port())
    jars = tmp_path / f"kafka-libs-{local_stack_variable('KAFKA_VERSION')}"
    jars.mkdir()
    (jars / ".complete").touch()
    with socket.socket() as another_console:
        another_console.bind(("127.0.0.1", 0))
        another_console.listen()
        port = another_console.getsockname()[1]
        try:
            up = stack("up", tmp_path, TITP_CONSOLE_PORT=str(port), **ports)
        finally:
            stack("down", tmp_path, **ports)

    assert up.returncode == 1
    assert f"127.0.0.1:{port} (console's port) is taken by another process: stop it, or move console with" in up.stderr
    assert up.stderr.rstrip().endswith("TITP_CONSOLE_PORT")  # what moves it
    assert [path.name for path in tmp_path.iterdir()] == [jars.name]  # no database, no broker, no service
