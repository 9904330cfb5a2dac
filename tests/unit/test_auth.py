import base64
import hashlib
import hmac
import json
import time
from typing import Annotated

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from fastapi import Depends, FastAPI
from typer.testing import CliRunner

from shared.settings import load_settings
from shared.web.auth import (
    CurrentPrincipal,
    JwksEndpoint,
    JwksFile,
    OtitOfficer,
    Principal,
    Role,
    TokenVerifier,
    ensure_dev_keys,
    install_authentication,
    mint_token,
    require_roles,
)
from shared.web.problems import install_problem_handlers
from tools import cli

HS256_SECRET = "a dev secret of thirty-two bytes!"


@pytest.fixture
def keys_dir(tmp_path):
    return ensure_dev_keys(tmp_path / "dev-keys")


def back_office(verifier: TokenVerifier) -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)
    app.state.token_verifier = verifier

    @app.get("/me")
    def me(principal: CurrentPrincipal) -> dict:
        return {"subject": principal.subject, "roles": sorted(principal.roles), "org": principal.organization_id}

    @app.get("/permits")
    def permits(officer: OtitOfficer) -> list:
        return []

    @app.get("/audit-log")
    def audit_log(reader: Annotated[Principal, Depends(require_roles(Role.AUDITOR, Role.ADMIN))]) -> list:
        return []

    return app


def verifier_for(keys_dir, **options) -> TokenVerifier:
    return TokenVerifier(
        keys=JwksFile(keys_dir / "jwks.json"),
        issuer="titp-dev",
        audience="titp",
        algorithms=["RS256", "EdDSA", "ES256"],
        **options,
    )


def client_for(verifier: TokenVerifier) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(back_office(verifier)), base_url="http://titp.test")


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def claims(**changes) -> dict:
    now = int(time.time())
    return {
        "iss": "titp-dev",
        "aud": "titp",
        "sub": "tanaka",
        "roles": ["otit"],
        "iat": now,
        "exp": now + 600,
    } | changes


def kid_of(keys_dir) -> str:
    return json.loads((keys_dir / "jwks.json").read_text())["keys"][0]["kid"]


async def test_an_otit_officer_with_a_good_token_is_let_in(keys_dir):
    token = mint_token([Role.OTIT], subject="tanaka", keys_dir=keys_dir)

    async with client_for(verifier_for(keys_dir)) as client:
        response = await client.get("/permits", headers=bearer(token))
        me = await client.get("/me", headers=bearer(token))

    assert response.status_code == 200
    assert me.json() == {"subject": "tanaka", "roles": ["otit"], "org": None}


async def test_an_rsa_dev_key_works_too(tmp_path):
    keys_dir = ensure_dev_keys(tmp_path / "rsa", key_type="rsa")
    token = mint_token(["otit"], keys_dir=keys_dir)

    assert jwt.get_unverified_header(token)["alg"] == "RS256"
    async with client_for(verifier_for(keys_dir)) as client:
        assert (await client.get("/permits", headers=bearer(token))).status_code == 200


async def test_an_organization_member_carries_the_organization(keys_dir):
    token = mint_token([Role.SUPERVISING_ORG], org="ORG-1", subject="suzuki", keys_dir=keys_dir)

    async with client_for(verifier_for(keys_dir)) as client:
        me = (await client.get("/me", headers=bearer(token))).json()

    assert me == {"subject": "suzuki", "roles": ["supervising_org"], "org": "ORG-1"}


async def test_no_token_is_401_asking_for_a_bearer(keys_dir):
    async with client_for(verifier_for(keys_dir)) as client:
        response = await client.get("/permits")

    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.headers["content-type"] == "application/problem+json"


async def test_a_token_signed_by_another_key_is_401(keys_dir):
    stranger = ed25519.Ed25519PrivateKey.generate()
    forged = jwt.encode(claims(), stranger, algorithm="EdDSA", headers={"kid": kid_of(keys_dir)})

    async with client_for(verifier_for(keys_dir)) as client:
        response = await client.get("/permits", headers=bearer(forged))

    assert response.status_code == 401
    assert "Signature verification failed" in response.json()["detail"]


async def test_an_expired_token_is_401(keys_dir):
    token = mint_token(["otit"], ttl=3600, keys_dir=keys_dir, now=int(time.time()) - 7200)

    async with client_for(verifier_for(keys_dir)) as client:
        response = await client.get("/permits", headers=bearer(token))

    assert response.status_code == 401
    assert "expired" in response.json()["detail"]


def unsigned(header: dict, payload: dict) -> str:
    def part(value: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part(header)}.{part(payload)}."


@pytest.mark.parametrize("alg", ["none", "None", "NONE"])
async def test_an_unsigned_token_is_401(keys_dir, alg):
    token = unsigned({"alg": alg, "typ": "JWT", "kid": kid_of(keys_dir)}, claims(roles=["admin"]))

    async with client_for(verifier_for(keys_dir)) as client:
        response = await client.get("/me", headers=bearer(token))

    assert response.status_code == 401


@pytest.mark.parametrize("changes", [{"audience": "another-system"}, {"issuer": "someone-else"}])
async def test_a_token_for_another_audience_or_from_another_issuer_is_401(keys_dir, changes):
    token = mint_token(["otit"], keys_dir=keys_dir, **changes)

    async with client_for(verifier_for(keys_dir)) as client:
        response = await client.get("/permits", headers=bearer(token))

    assert response.status_code == 401


async def test_a_wrong_role_is_403(keys_dir):
    token = mint_token([Role.IMMIGRATION, Role.AUDITOR], keys_dir=keys_dir)

    async with client_for(verifier_for(keys_dir)) as client:
        response = await client.get("/permits", headers=bearer(token))

    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"
    assert "otit" in response.json()["detail"]


@pytest.mark.parametrize(("roles", "status"), [(["auditor"], 200), (["admin"], 200), (["otit"], 403)])
async def test_any_of_the_required_roles_will_do(keys_dir, roles, status):
    token = mint_token(roles, keys_dir=keys_dir)

    async with client_for(verifier_for(keys_dir)) as client:
        response = await client.get("/audit-log", headers=bearer(token))

    assert response.status_code == status


async def test_hs256_is_refused_unless_a_secret_is_configured(keys_dir):
    token = jwt.encode(claims(), HS256_SECRET, algorithm="HS256")

    async with client_for(verifier_for(keys_dir)) as client:
        refused = await client.get("/permits", headers=bearer(token))
    async with client_for(verifier_for(keys_dir, hs256_secret=HS256_SECRET)) as client:
        accepted = await client.get("/permits", headers=bearer(token))

    assert refused.status_code == 401
    assert "'HS256' is not accepted" in refused.json()["detail"]
    assert accepted.status_code == 200


async def test_hs256_signed_with_the_public_key_is_refused(keys_dir):
    # The classic algorithm confusion: an HMAC whose secret is the issuer's public key.
    signing_input = unsigned({"alg": "HS256", "kid": kid_of(keys_dir)}, claims(roles=["admin"])).rstrip(".")
    public_key = (keys_dir / "jwks.json").read_bytes()
    signature = hmac.new(public_key, signing_input.encode(), hashlib.sha256).digest()
    token = f"{signing_input}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"

    async with client_for(verifier_for(keys_dir, hs256_secret=HS256_SECRET)) as client:
        response = await client.get("/permits", headers=bearer(token))

    assert response.status_code == 401


async def test_an_algorithm_not_matching_the_key_is_refused(tmp_path):
    rsa_keys = ensure_dev_keys(tmp_path / "rsa", key_type="rsa")
    private_key = serialization.load_pem_private_key((rsa_keys / "signing-key.pem").read_bytes(), None)
    token = jwt.encode(claims(), private_key, algorithm="PS256", headers={"kid": kid_of(rsa_keys)})
    verifier = TokenVerifier(
        keys=JwksFile(rsa_keys / "jwks.json"), issuer="titp-dev", audience="titp", algorithms=["RS256", "PS256"]
    )

    async with client_for(verifier) as client:
        response = await client.get("/permits", headers=bearer(token))

    assert response.status_code == 401


@pytest.mark.parametrize(
    "bad",
    [
        "not-a-jwt",
        "Basic dXNlcjpwYXNz",
    ],
)
async def test_garbage_is_401(keys_dir, bad):
    async with client_for(verifier_for(keys_dir)) as client:
        response = await client.get("/permits", headers={"authorization": bad if " " in bad else f"Bearer {bad}"})

    assert response.status_code == 401


@pytest.mark.parametrize(
    "changes",
    [
        {"roles": ["supervising_org"]},  # an organization role without its organization
        {"roles": "otit"},
        {"exp": None},
        {"sub": None},
    ],
)
async def test_a_token_missing_what_we_need_is_401(keys_dir, changes):
    private_key = serialization.load_pem_private_key((keys_dir / "signing-key.pem").read_bytes(), None)
    payload = {key: value for key, value in claims(**changes).items() if value is not None}
    token = jwt.encode(payload, private_key, algorithm="EdDSA", headers={"kid": kid_of(keys_dir)})

    async with client_for(verifier_for(keys_dir)) as client:
        response = await client.get("/me", headers=bearer(token))

    assert response.status_code == 401


async def test_roles_of_other_systems_are_ignored(keys_dir):
    private_key = serialization.load_pem_private_key((keys_dir / "signing-key.pem").read_bytes(), None)
    token = jwt.encode(claims(roles=["otit", "offline_access"]), private_key, "EdDSA", {"kid": kid_of(keys_dir)})

    async with client_for(verifier_for(keys_dir)) as client:
        me = (await client.get("/me", headers=bearer(token))).json()

    assert me["roles"] == ["otit"]


async def test_keys_created_after_start_are_picked_up(tmp_path):
    folder = tmp_path / "later"
    verifier = verifier_for(folder)

    async with client_for(verifier) as client:
        before = await client.get("/me", headers=bearer(unsigned({"alg": "EdDSA", "kid": "k"}, claims())))
        token = mint_token(["auditor"], keys_dir=folder)
        after = await client.get("/me", headers=bearer(token))

    assert before.status_code == 503
    assert after.status_code == 200


async def test_keys_from_a_jwks_endpoint_are_selected_by_kid(keys_dir, monkeypatch):
    endpoint = JwksEndpoint("https://issuer.example/.well-known/jwks.json")
    monkeypatch.setattr(endpoint._client, "fetch_data", lambda: json.loads((keys_dir / "jwks.json").read_text()))
    verifier = TokenVerifier(keys=endpoint, issuer="titp-dev", audience="titp", algorithms=["EdDSA"])

    async with client_for(verifier) as client:
        good = await client.get("/permits", headers=bearer(mint_token(["otit"], keys_dir=keys_dir)))
        other_key = mint_token(["otit"], keys_dir=ensure_dev_keys(keys_dir.parent / "other"))
        unknown_kid = await client.get("/permits", headers=bearer(other_key))

    assert good.status_code == 200
    assert unknown_kid.status_code == 401


async def test_an_unreachable_jwks_endpoint_is_503(keys_dir):
    verifier = TokenVerifier(
        keys=JwksEndpoint("http://127.0.0.1:9/jwks.json"), issuer="titp-dev", audience="titp", algorithms=["EdDSA"]
    )

    async with client_for(verifier) as client:
        response = await client.get("/permits", headers=bearer(mint_token(["otit"], keys_dir=keys_dir)))

    assert response.status_code == 503
    assert "retry-after" in response.headers


async def test_the_verifier_is_built_from_settings(tmp_path):
    settings = load_settings("registry", data_dir=tmp_path)
    app = back_office(verifier_for(tmp_path))
    install_authentication(app, settings)
    token = mint_token(["otit"], keys_dir=tmp_path / "dev-keys")

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://titp.test") as client:
        response = await client.get("/permits", headers=bearer(token))

    assert response.status_code == 200
    assert app.state.token_verifier.keys.path == tmp_path.resolve() / "dev-keys" / "jwks.json"


def test_require_roles_refuses_unknown_roles():
    with pytest.raises(ValueError):
        require_roles("officer")


def test_principal_helpers():
    member = Principal("suzuki", frozenset({Role.IMPLEMENTING_ORG}), "ORG-1")
    officer = Principal("tanaka", frozenset({Role.OTIT}))

    assert member.is_organization_member and member.acts_for("ORG-1") and not member.acts_for("ORG-2")
    assert not officer.is_organization_member and not officer.acts_for("ORG-1")
    assert officer.has_role("otit", Role.ADMIN) and not officer.has_role(Role.AUDITOR)


def test_the_dev_token_command_prints_a_token_the_services_accept(tmp_path):
    result = CliRunner().invoke(
        cli.app,
        [
            "dev-token",
            "--role",
            "implementing_org",
            "--role",
            "auditor",
            "--org",
            "ORG-7",
            "--subject",
            "sato",
            "--ttl",
            "60",
            "--keys-dir",
            str(tmp_path),
        ],
    )

    assert result.exit_code == 0, result.output
    principal = verifier_for(tmp_path).verify(result.stdout.strip())
    assert principal == Principal("sato", frozenset({Role.IMPLEMENTING_ORG, Role.AUDITOR}), "ORG-7")


def test_the_dev_token_command_needs_an_organization_for_an_organization_role(tmp_path):
    result = CliRunner().invoke(cli.app, ["dev-token", "--role", "supervising_org", "--keys-dir", str(tmp_path)])

    assert result.exit_code != 0
    assert "org" in result.output
