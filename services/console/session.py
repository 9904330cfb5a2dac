"""Who is at the desk: the officer's own bearer token, kept in an HttpOnly cookie.

The console never decides who may do what: every page asks the services with the officer's token, and they
check it (issuer, signature, roles, organization). The console only reads the token's claims to greet the
officer and to show the menu and the decisions their roles may take.

Two ways in: the dev issuer (local: pick a role, the console signs the token with the dev key, as
`titp dev-token` does), or an OpenID Connect issuer (authorization code with PKCE; the access token it gives is
the bearer token the services check).
"""

import base64
import hashlib
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
import jwt
from fastapi import Request, Response

from services.console.settings import ConsoleSettings
from shared.web.auth import mint_token

COOKIE = "titp_console"
OIDC_COOKIE = "titp_console_oidc"
OFFICER_ROLES = ("otit", "immigration", "auditor", "admin", "exam_body", "supervising_org", "implementing_org")


@dataclass(frozen=True)
class Officer:
    token: str
    subject: str
    roles: frozenset[str]
    org: str | None
    expires: int

    def has(self, *roles: str) -> bool:
        return bool(self.roles & set(roles))


def officer_of(request: Request) -> Officer | None:
    """The signed-in officer, or None (no cookie, or a token that has ended)."""
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    try:
        # Read, not verified: the services verify it on every call; a forged cookie only shows an empty menu.
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return None
    expires = int(claims.get("exp", 0))
    if expires <= time.time():
        return None
    roles = claims.get("roles") or []
    return Officer(
        token=token,
        subject=str(claims.get("name") or claims.get("sub") or ""),
        roles=frozenset(str(r) for r in (roles if isinstance(roles, list) else [roles])),
        org=claims.get("org"),
        expires=expires,
    )


def keep(response: Response, settings: ConsoleSettings, token: str, lifetime_s: int) -> None:
    response.set_cookie(
        COOKIE,
        token,
        max_age=min(lifetime_s, settings.session_max_s),
        httponly=True,
        samesite="strict",
        secure=settings.secure_cookies,
        path="/",
    )


def forget(response: Response) -> None:
    response.delete_cookie(COOKIE, path="/")


def dev_token(settings: ConsoleSettings, role: str, subject: str, org: str | None) -> str:
    return mint_token([role], org or None, subject or "officer", settings.session_max_s, keys_dir=settings.dev_keys_dir)


# OpenID Connect: authorization code with PKCE (RFC 7636).


def _challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


async def discovery(settings: ConsoleSettings) -> dict[str, Any]:
    issuer = str(settings.oidc_issuer).rstrip("/")
    async with httpx.AsyncClient(timeout=settings.service_timeout_s) as client:
        answer = await client.get(f"{issuer}/.well-known/openid-configuration")
        answer.raise_for_status()
        document: dict[str, Any] = answer.json()
        return document


def redirect_uri(settings: ConsoleSettings, request: Request) -> str:
    base = str(settings.public_url).rstrip("/") if settings.public_url else str(request.base_url).rstrip("/")
    return f"{base}/auth/callback"


async def authorization_redirect(settings: ConsoleSettings, request: Request) -> tuple[str, str]:
    """Where to send the browser, and the cookie value that remembers the state and the PKCE verifier."""
    config = await discovery(settings)
    state, verifier = secrets.token_urlsafe(24), secrets.token_urlsafe(48)
    query = urlencode(
        {
            "response_type": "code",
            "client_id": settings.oidc_client_id,
            "redirect_uri": redirect_uri(settings, request),
            "scope": settings.oidc_scope,
            "state": state,
            "code_challenge": _challenge(verifier),
            "code_challenge_method": "S256",
        }
    )
    return f"{config['authorization_endpoint']}?{query}", f"{state}.{verifier}"


class SignInFailed(Exception):
    pass


async def exchange(
    settings: ConsoleSettings, request: Request, code: str, state: str, remembered: str
) -> dict[str, Any]:
    """The token endpoint's answer for `code`, after checking `state` against what this browser was given."""
    expected, _, verifier = remembered.partition(".")
    if not expected or not secrets.compare_digest(expected, state):
        raise SignInFailed("the sign-in's state does not match this browser's; start again")
    config = await discovery(settings)
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri(settings, request),
        "client_id": settings.oidc_client_id or "",
        "code_verifier": verifier,
    }
    if settings.oidc_client_secret is not None:
        form["client_secret"] = settings.oidc_client_secret.get_secret_value()
    async with httpx.AsyncClient(timeout=settings.service_timeout_s) as client:
        answer = await client.post(config["token_endpoint"], data=form)
    if answer.status_code != 200:
        raise SignInFailed(f"the identity provider refused the sign-in ({answer.status_code})")
    tokens: dict[str, Any] = answer.json()
    if "access_token" not in tokens:
        raise SignInFailed("the identity provider gave no access token")
    return tokens
