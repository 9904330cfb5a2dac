"""`make test` runs against a stack of its own, never the one `make run` runs (issue 18 item 5): the suite's
events must not reach the live services' topics, consumer groups or databases."""

import os
import re
import subprocess
from urllib.parse import urlsplit

from tests.deploy.conftest import ROOT

# The stack `make run` runs (ARCHITECTURE §8).
DEFAULT_DATA = ROOT / ".data"
DEFAULT_KAFKA_PORT, DEFAULT_CONTROLLER_PORT, DEFAULT_PG_PORT = 9092, 9093, 5432


def make(*args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TITP_", "MAKE"))}
    return subprocess.run(["make", "-s", *args], cwd=ROOT, env=env, capture_output=True, text=True, check=True).stdout


def exported(script: str) -> dict[str, str]:
    return dict(re.findall(r"(\w+)=(\S+)", " ".join(line for line in script.splitlines() if line.startswith("export"))))


def test_the_suite_runs_against_its_own_stack():
    env = exported(make("test-env"))

    assert urlsplit(env["DATABASE_URL"]).port not in (DEFAULT_PG_PORT, None)
    assert int(env["KAFKA_BOOTSTRAP_SERVERS"].rsplit(":", 1)[1]) != DEFAULT_KAFKA_PORT
    assert int(env["TITP_KAFKA_CONTROLLER_PORT"]) != DEFAULT_CONTROLLER_PORT
    assert os.path.realpath(env["TITP_DATA_DIR"]) != os.path.realpath(DEFAULT_DATA)
    assert env["TITP_TEST_STACK"] == "1"  # tests/conftest.py then refuses the default addresses


def test_make_test_starts_and_stops_that_stack_and_no_other():
    recipe = make("-n", "test")
    start, stop = recipe.index("stack.sh start"), recipe.index("stack.sh stop")
    exports = recipe.rfind("export TITP_DATA_DIR=", 0, start)
    # Check: exported before `start`, in the same shell (one recipe line, continued) as `env`, the suite and `stop`.
    assert exports != -1 and all(line.endswith("\\") for line in recipe[exports:stop].splitlines()[:-1])
    line = recipe[exports : recipe.index(";", exports)]
    test_env = exported(make("test-env"))
    assert exported(line) == {k: test_env[k] for k in exported(line)}
    assert {"TITP_DATA_DIR", "TITP_KAFKA_PORT", "TITP_KAFKA_CONTROLLER_PORT", "TITP_PG_PORT"} <= exported(line).keys()
