"""Signing in to the console through an OpenID Connect issuer: the authorization code flow with PKCE.

The issuer here is a small one served over real HTTP by the test (discovery, authorize, token), which signs its
access tokens with the dev key the registry trusts: what matters is the console's side of the flow (state and
PKCE checked, the access token kept and sent to the services) against a standard issuer's answers."""

import asyncio
import base64
import hashlib
import secrets
import socket
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
import uvicorn
from fastapi import FastAPI, Form, HTTPException
from fastapi.responses import RedirectResponse

from services.console.app import create_app as create_console
from services.console.settings import ConsoleSettings
from shared.web.auth import mint_token
from tests.helpers import permit_application, post

CLIENT_ID = "titp-console"


def identity_provider(base: str, dev_keys) -> FastAPI:
    issued: dict[str, tuple[str, str]] = {}  # code -> (PKCE challenge, redirect_uri)
    idp = FastAPI()

    @idp.get("/.well-known/openid-configuration")
    def configuration() -> dict[str, str]:
        return {
            "issuer": base,
            "authorization_endpoint": f"{base}/authorize",
            "token_endpoint": f"{base}/token",
            "jwks_uri": f"{base}/jwks",
        }

    @idp.get("/authorize")
    def authorize(
        response_type: str,
        client_id: str,
        redirect_uri: str,
        state: str,
        code_challenge: str,
        code_challenge_method: str,
    ) -> RedirectResponse:
        assert (response_type, client_id, code_challenge_method) == ("code", CLIENT_ID, "S256")
        code = secrets.token_urlsafe(16)
        issued[code] = (code_challenge, redirect_uri)
        return RedirectResponse(f"{redirect_uri}?{urlencode({'code': code, 'state': state})}", status_code=302)

    @idp.post("/token")
    def token(
        grant_type: str = Form(), code: str = Form(), code_verifier: str = Form(), redirect_uri: str = Form()
    ) -> dict[str, object]:
        challenge, redirected_to = issued.pop(code, ("", ""))
        digest = base64.urlsafe_b64encode(hashlib.sha256(code_verifier.encode()).digest()).decode().rstrip("=")
        if grant_type != "authorization_code" or digest != challenge or redirect_uri != redirected_to:
            raise HTTPException(400, "invalid_grant")
        access = mint_token(["otit"], subject="officer-kato", keys_dir=dev_keys)
        return {"access_token": access, "token_type": "Bearer", "expires_in": 3600}

    return idp


@pytest.fixture
async def issuer(dev_keys):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    server = uvicorn.Server(uvicorn.Config(identity_provider(base, dev_keys), port=port, log_config=None))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.05)
    yield base
    server.should_exit = True
    await task


@pytest.fixture
async def registry(fresh_database, service_settings, run_service):
    from services.registry.app import create_app

    app = create_app(service_settings("registry", fresh_database))
    return app, await run_service(app)


async def test_an_officer_signs_in_through_the_agencys_issuer_and_works_with_its_token(issuer, registry, token):
    app, client = registry
    await post(client, "/v1/supervising-organizations", permit_application(name="Asahi Kyodo"), token("otit"), 201)
    down = {f"{s}_url": "http://127.0.0.1:9" for s in ("accreditation", "inspection", "visa")}  # only the registry
    settings = ConsoleSettings(
        dev_sign_in=False, oidc_issuer=issuer, oidc_client_id=CLIENT_ID, public_url="http://console.test", **down
    )
    console = create_console(settings, transports={"registry": httpx.ASGITransport(app)})
    async with (
        console.router.lifespan_context(console),
        httpx.AsyncClient(transport=httpx.ASGITransport(console), base_url="http://console.test") as browser,
        httpx.AsyncClient() as to_the_issuer,
    ):
        page = (await browser.get("/sign-in")).text
        assert 'href="/sign-in/oidc"' in page and 'name="role"' not in page  # no dev sign-in here
        assert (await browser.post("/sign-in", data={"role": "admin"})).status_code == 404

        started = await browser.get("/sign-in/oidc")
        assert started.status_code == 303
        authorize = urlsplit(started.headers["location"])
        query = parse_qs(authorize.query)
        assert f"{authorize.scheme}://{authorize.netloc}{authorize.path}" == f"{issuer}/authorize"
        assert query["redirect_uri"] == ["http://console.test/auth/callback"]
        assert query["code_challenge_method"] == ["S256"] and query["client_id"] == [CLIENT_ID]

        # The issuer's answer, replayed from another browser's sign-in (another state): refused, nothing kept.
        answered = await to_the_issuer.get(started.headers["location"])
        back = parse_qs(urlsplit(answered.headers["location"]).query)
        forged = await browser.get("/auth/callback", params={"code": back["code"][0], "state": "someone-elses"})
        assert forged.status_code == 400 and "state" in forged.text
        assert (await browser.get("/")).status_code == 303  # still not signed in

        started = await browser.get("/sign-in/oidc")
        answered = await to_the_issuer.get(started.headers["location"])
        back = parse_qs(urlsplit(answered.headers["location"]).query)
        signed_in = await browser.get("/auth/callback", params={"code": back["code"][0], "state": back["state"][0]})
        assert signed_in.status_code == 303 and signed_in.headers["location"] == "/"

        dashboard = await browser.get("/", params={"lang": "en"})
        assert dashboard.status_code == 200
        assert "officer-kato" in dashboard.text and "Asahi Kyodo" in dashboard.text  # the registry took its token

        # The sign-in's state is spent with it: the same answer again is refused.
        again = await browser.get("/auth/callback", params={"code": back["code"][0], "state": back["state"][0]})
        assert again.status_code == 400 and "state" in again.text
