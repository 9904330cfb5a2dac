"""The fault tests' dev issuer (their private stack is `private_stack` in tests/conftest.py)."""

import pytest

from bench.harness import Keys


@pytest.fixture(scope="session")
def keys() -> Keys:
    return Keys()
