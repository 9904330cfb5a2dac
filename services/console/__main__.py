"""`python -m services.console`: serve the console on TITP_CONSOLE_HTTP_HOST:TITP_CONSOLE_HTTP_PORT (127.0.0.1:8000).

One process under uvicorn with the services' slow-client cut (shared/web/serve.py) and JSON log lines on stderr:
the console keeps no state but its HTTP clients, so more of them scale behind any load balancer.
"""

import logging
import sys

import uvicorn

from services.console.app import create_app
from services.console.settings import ConsoleSettings
from shared.telemetry import JsonLogFormatter
from shared.web.serve import SlowClientsCut

HEADER_TIMEOUT_S = 10.0


def main() -> None:
    settings = ConsoleSettings()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLogFormatter("console"))
    logging.basicConfig(level=logging.INFO, handlers=[handler], force=True)
    protocol = type("SlowClientsCut", (SlowClientsCut,), {"header_timeout_s": HEADER_TIMEOUT_S})
    app = create_app(settings)
    config = uvicorn.Config(
        app, host=settings.http_host, port=settings.http_port, http=protocol, access_log=False, log_config=None
    )
    uvicorn.Server(config).run()


if __name__ == "__main__":
    main()
