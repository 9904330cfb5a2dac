"""`python -m services.console`: serve the console on TITP_CONSOLE_HTTP_HOST:TITP_CONSOLE_HTTP_PORT (127.0.0.1:8000).

One process, served as the services are (shared/web/serve.py `config`: the slow-client cut; shared/telemetry.py: JSON
log lines on stderr): the console keeps no state but its HTTP clients, so more of them scale behind a load balancer.
"""

import uvicorn

from services.console.app import create_app
from services.console.settings import ConsoleSettings
from shared.telemetry import setup_logging
from shared.web.serve import config


def main() -> None:
    settings = ConsoleSettings()
    setup_logging(settings)
    uvicorn.Server(config(create_app(settings))).run()


if __name__ == "__main__":
    main()
