"""`?as_of=TIME` on every resource: each single-resource GET of the four services takes it (the contract of
DOMAIN §10), so an auditor can see any record as it was."""

import importlib

import pytest

from shared.settings import SERVICES, load_settings


@pytest.mark.parametrize("service", SERVICES)
def test_every_single_resource_get_takes_as_of(service):
    app = importlib.import_module(f"services.{service}.app").create_app(load_settings(service, log_json=False))
    paths = app.openapi()["paths"]
    resources = {path: item["get"] for path, item in paths.items() if path.endswith("}") and "get" in item}
    assert resources, "no single-resource GET found"
    missing = [path for path, get in resources.items() if "as_of" not in {p["name"] for p in get.get("parameters", ())}]
    assert missing == []
