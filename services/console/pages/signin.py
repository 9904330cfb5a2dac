"""Sign-in and sign-out: the dev issuer's role picker, or an OpenID Connect issuer's code flow."""

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.console import session
from services.console.render import page
from services.console.settings import ConsoleSettings

router = APIRouter()


def _settings(request: Request) -> ConsoleSettings:
    settings: ConsoleSettings = request.app.state.settings
    return settings


def _back_to(next_path: str | None) -> str:
    # Only a path on this console: never an address elsewhere (an open redirect).
    return next_path if next_path and next_path.startswith("/") and not next_path.startswith("//") else "/"


@router.get("/sign-in", response_class=HTMLResponse)
async def sign_in_page(request: Request, next: str | None = None) -> Response:
    return page(request, "sign_in.html", settings=_settings(request), roles=session.OFFICER_ROLES, next=_back_to(next))


@router.post("/sign-in", response_class=HTMLResponse)
async def sign_in(
    request: Request,
    role: Annotated[str, Form()],
    name: Annotated[str, Form(max_length=100)] = "",
    org: Annotated[str, Form(max_length=64)] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    settings = _settings(request)
    if not settings.dev_sign_in:
        return page(request, "sign_in.html", status=404, settings=settings, roles=session.OFFICER_ROLES, next="/")
    try:
        token = session.dev_token(settings, role, name.strip(), org.strip() or None)
    except ValueError as error:
        return page(
            request,
            "sign_in.html",
            status=422,
            settings=settings,
            roles=session.OFFICER_ROLES,
            next=_back_to(next),
            error=str(error),
            typed={"role": role, "name": name, "org": org},
        )
    response = RedirectResponse(_back_to(next), status_code=303)
    session.keep(response, settings, token, settings.session_max_s)
    return response


@router.get("/sign-in/oidc")
async def sign_in_oidc(request: Request) -> Response:
    settings = _settings(request)
    if settings.oidc_issuer is None:
        return RedirectResponse("/sign-in", status_code=303)
    target, remembered = await session.authorization_redirect(settings, request)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        session.OIDC_COOKIE, remembered, max_age=600, httponly=True, samesite="lax", secure=settings.secure_cookies
    )
    return response


@router.get("/auth/callback", response_class=HTMLResponse)
async def oidc_callback(request: Request, code: str = "", state: str = "", error: str = "") -> Response:
    settings = _settings(request)
    remembered = request.cookies.get(session.OIDC_COOKIE, "")
    try:
        if error or not code:
            raise session.SignInFailed(f"the identity provider answered: {error or 'no code'}")
        tokens = await session.exchange(settings, request, code, state, remembered)
    except session.SignInFailed as failed:
        return page(
            request,
            "sign_in.html",
            status=400,
            settings=settings,
            roles=session.OFFICER_ROLES,
            next="/",
            error=str(failed),
        )
    response = RedirectResponse("/", status_code=303)
    session.keep(response, settings, tokens["access_token"], int(tokens.get("expires_in", settings.session_max_s)))
    response.delete_cookie(session.OIDC_COOKIE)
    return response


@router.post("/sign-out")
async def sign_out() -> Response:
    response = RedirectResponse("/sign-in", status_code=303)
    session.forget(response)
    return response
