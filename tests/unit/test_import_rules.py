"""The layout's import rules (docs/adding-a-service.md, STYLE.md), checked on the code itself.

- Services share nothing but contracts: no service imports another service's package.
- The domain and the contracts are pure: importing them loads no web framework, database or
  broker client, and no telemetry.
- shared/ is the core: importing its core modules loads neither the web edge (nor FastAPI),
  the audit tools, the tools, the contracts nor any service.
- Every service has the same rooms.
"""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from shared.settings import SERVICES

ROOT = Path(__file__).resolve().parents[2]
IMPURE = ("fastapi", "starlette", "asyncpg", "aiokafka", "opentelemetry", "httpx", "uvicorn")
ROOMS = (
    "domain/__init__.py",
    "domain/rules.py",
    "commands.py",
    "projections/__init__.py",
    "subscriptions.py",
    "api/__init__.py",
    "api/schemas.py",
    "api/auth.py",
    "app.py",
    "migrations",
)


def imported_modules(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def python_files(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.py"))


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_imports_no_other_service(service):
    others = tuple(f"services.{other}" for other in SERVICES if other != service)
    crossing = {
        f"{path.relative_to(ROOT)}: {module}"
        for path in python_files(ROOT / "services" / service)
        for module in imported_modules(path)
        if module == "services" or module.startswith(others)
    }
    assert not crossing, sorted(crossing)


def test_contracts_import_only_the_core_events_and_other_contracts():
    allowed = (
        "contracts",
        "shared.events",
        "shared.crypto",
        "pydantic",
        "typing",
        "datetime",
        "enum",
        "uuid",
        "decimal",
        "__future__",
        "collections",
        "dataclasses",
        "annotated_types",
    )
    outside = {
        f"{path.name}: {module}"
        for path in python_files(ROOT / "contracts")
        for module in imported_modules(path)
        if not module.startswith(allowed)
    }
    assert not outside, sorted(outside)


def test_the_core_loads_no_edge_tool_contract_or_service():
    core = [module_name(p) for p in python_files(ROOT / "shared") if p.parent == ROOT / "shared"]
    above = ("shared.web", "shared.audit", "tools", "contracts", "services", "fastapi", "starlette")
    probe = (
        "import importlib, sys\n"
        f"for name in {core!r}: importlib.import_module(name)\n"
        f"print(sorted(m for m in sys.modules if m.startswith({above!r})))"
    )
    loaded = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == "[]", f"importing the core ({len(core)} modules) loaded {loaded.stdout.strip()}"


def pure_modules() -> list[str]:
    domains = [module_name(p) for service in SERVICES for p in python_files(ROOT / "services" / service / "domain")]
    return [
        *domains,
        *(module_name(p) for p in python_files(ROOT / "contracts")),
        "shared.errors",
        "shared.improvement_orders",
        "shared.dates",
    ]


def test_importing_the_domain_and_the_contracts_loads_nothing_impure():
    modules = pure_modules()
    probe = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({IMPURE!r})))"
    )
    loaded = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == "[]", f"importing {len(modules)} pure modules loaded {loaded.stdout.strip()}"


@pytest.mark.parametrize("service", SERVICES)
def test_every_service_has_the_same_rooms(service):
    folder = ROOT / "services" / service
    assert [room for room in ROOMS if not (folder / room).exists()] == []
    assert not (folder / "handlers.py").exists() and not (folder / "api.py").exists()
