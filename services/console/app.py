"""The officers' console: server-rendered pages (Jinja2, htmx for the parts that refresh in place) over the
four services' REST APIs. It has no database and no topics: `create_app` connects to nothing but HTTP clients.
"""

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import quote, urlparse

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from services.console.apis import Services, ServiceUnreachable
from services.console.pages import desk, public, signin
from services.console.render import page
from services.console.settings import ConsoleSettings
from shared.settings import SERVICES

SECURITY_HEADERS = {
    # Scripts and styles only from the console itself: no inline script runs, whatever a record holds.
    "content-security-policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
}
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def create_app(
    settings: ConsoleSettings | None = None, *, transports: dict[str, httpx.AsyncBaseTransport] | None = None
) -> FastAPI:
    settings = settings or ConsoleSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = Services(
            {s: settings.service_url(s) for s in SERVICES}, settings.service_timeout_s, transports=transports
        )
        app.state.services = services
        try:
            yield
        finally:
            await services.close()

    app = FastAPI(title="TITP console", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    app.state.settings = settings
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")
    app.include_router(signin.router)
    app.include_router(public.router)
    app.include_router(desk.router)

    @app.middleware("http")
    async def guard(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        if request.method in UNSAFE_METHODS and not _same_origin(request):
            return page(request, "error.html", status=403, message="cross_site")
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    @app.exception_handler(desk.SignInNeeded)
    async def to_sign_in(request: Request, exc: desk.SignInNeeded) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/sign-in?next={quote(target)}", status_code=303)

    @app.exception_handler(desk.NoSuchPage)
    async def no_such_page(request: Request, exc: desk.NoSuchPage) -> Response:
        return page(request, "error.html", status=404, message="not_found")

    @app.exception_handler(ServiceUnreachable)
    async def unreachable(request: Request, exc: ServiceUnreachable) -> Response:
        return page(request, "error.html", status=503, message="not_reachable", detail=str(exc))

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> JSONResponse:
        return JSONResponse({"status": "ok"})

    @app.get("/readyz", include_in_schema=False)
    async def readyz(request: Request) -> JSONResponse:
        """Ready when every service answers its own /healthz: the console is nothing without them."""
        services: Services = request.app.state.services
        down = []
        for service in SERVICES:
            try:
                answer = await services.call(service, "GET", "/healthz", token=None)
                if not answer.ok:
                    down.append(service)
            except ServiceUnreachable:
                down.append(service)
        return JSONResponse(
            {"status": "ok" if not down else "unavailable", "down": down}, status_code=503 if down else 200
        )

    return app


def _same_origin(request: Request) -> bool:
    """A form sent from another site is refused (the session cookie is SameSite=Strict as well)."""
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return request.headers.get("sec-fetch-site", "same-origin") in {"same-origin", "none"}
    return urlparse(origin).netloc == request.headers.get("host")
