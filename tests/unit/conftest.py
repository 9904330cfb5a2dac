import os

import pytest


@pytest.fixture(autouse=True)
def without_titp_environment(monkeypatch):
    """Unit tests see the defaults, not the TITP_* variables of whoever runs them."""
    for name in list(os.environ):
        if name.upper().startswith("TITP_"):
            monkeypatch.delenv(name)
