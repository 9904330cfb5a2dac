"""Print the services and their default HTTP ports, `name port` a line, for deploy/local/stack.sh.

The list is written once: DEFAULT_HTTP_PORTS in shared/settings.py. This reads that assignment without
importing the module, so it runs on any Python 3 without the venv (`stack.sh status` and `down` work before
`make venv`); tests/deploy/test_services_list.py checks that it answers as the import does.
"""

import ast
import sys
from pathlib import Path

SETTINGS = Path(__file__).resolve().parents[2] / "shared" / "settings.py"


def default_http_ports(source: str) -> dict[str, int]:
    """The literal value of `DEFAULT_HTTP_PORTS` in `source`."""
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        else:
            continue
        if any(isinstance(t, ast.Name) and t.id == "DEFAULT_HTTP_PORTS" for t in targets):
            ports = ast.literal_eval(value)
            if (
                isinstance(ports, dict)
                and ports
                and all(isinstance(k, str) and isinstance(v, int) for k, v in ports.items())
            ):
                return ports
    raise ValueError("no literal DEFAULT_HTTP_PORTS = {name: port, ...}")


def main() -> None:
    try:
        ports = default_http_ports(SETTINGS.read_text())
    except (OSError, SyntaxError, ValueError) as error:
        sys.exit(f"{SETTINGS}: {error}")
    for name, port in ports.items():
        print(name, port)


if __name__ == "__main__":
    main()
