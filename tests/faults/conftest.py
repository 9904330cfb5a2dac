"""A private Kafka and PostgreSQL for the fault tests: deploy/local/stack.sh with a temporary data folder
and free ports, stopped by its recorded pids at the end. The shared stack the rest of the suite uses is
never touched."""

import tempfile
from pathlib import Path

import pytest

from bench.harness import Keys, free_port
from faults.stack import PrivateStack


@pytest.fixture(scope="session")
def private_stack():
    stack = PrivateStack(Path(tempfile.mkdtemp(prefix="titp-faults-")), free_port(), free_port(), free_port())
    try:
        stack.start()
        yield stack
    finally:
        stack.remove()


@pytest.fixture(scope="session")
def keys() -> Keys:
    return Keys()
