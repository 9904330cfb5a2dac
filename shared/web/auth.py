"""Who is calling: bearer JWTs verified against a JWKS, roles, and the dev issuer.

The app factory builds the verifier from settings and keeps it on the app:
`install_authentication(app, settings)`; routes then depend on `CurrentPrincipal`,
`require_roles(...)` or one of the role aliases below.
"""

import base64
import hashlib
import json
import logging
import os
import time
import uuid
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import unquote, urlparse

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from fastapi import Depends, FastAPI, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from shared.settings import REPO_ROOT, ServiceSettings
from shared.web.problems import Forbidden, ServiceUnavailable, Unauthorized
from shared.web.security import limit_writes

DEV_ISSUER = "titp-dev"
DEV_AUDIENCE = "titp"
PRIVATE_KEY_FILE = "signing-key.pem"
JWKS_FILE = "jwks.json"
CLOCK_SKEW_S = 10
VERIFIED_FOR_S = 60  # how long a verified token is taken on trust (a key withdrawn from the JWKS takes this long)
VERIFIED_KEEP = 4096
KEYS_UNAVAILABLE = "the token issuer's signing keys are not available; try again later"

log = logging.getLogger(__name__)


class Role(StrEnum):
    OTIT = "otit"
    IMMIGRATION = "immigration"
    SUPERVISING_ORG = "supervising_org"
    IMPLEMENTING_ORG = "implementing_org"
    AUDITOR = "auditor"
    ADMIN = "admin"
    EXAM_BODY = "exam_body"  # a skills-test body (試験実施機関): records exam results


ORGANIZATION_ROLES = frozenset({Role.SUPERVISING_ORG, Role.IMPLEMENTING_ORG})
_ROLE_NAMES = frozenset(role.value for role in Role)


@dataclass(frozen=True)
class Principal:
    subject: str
    roles: frozenset[Role]
    organization_id: str | None = None

    def has_role(self, *roles: Role | str) -> bool:
        return any(role in self.roles for role in roles)

    @property
    def is_organization_member(self) -> bool:
        """Bound to one organization: sees its own records only."""
        return bool(self.roles & ORGANIZATION_ROLES)

    def acts_for(self, organization_id: str) -> bool:
        return self.is_organization_member and self.organization_id == organization_id

    def may_see(self, *organization_ids: object) -> bool:
        """May this caller see a record of these organizations? Officers, auditors and admins see
        every record; an organization's member sees those that name its own organization."""
        if not self.is_organization_member:
            return True
        return any(str(id) == self.organization_id for id in organization_ids if id is not None)

    @property
    def only_organization(self) -> str | None:
        """For lists: the one organization whose records this caller may see, or None for all."""
        return self.organization_id if self.is_organization_member else None


class InvalidToken(Exception):
    pass


# Signing keys, selected by `kid`.


class JwksFile:
    """A JWKS on disk (the dev issuer's); re-read when a token names a `kid` it lacks."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._keys: dict[str, jwt.PyJWK] = {}
        self._read_mtime: float | None = None

    def signing_key(self, kid: str) -> jwt.PyJWK:
        if kid not in self._keys:
            self._reload()
        try:
            return self._keys[kid]
        except KeyError:
            raise InvalidToken(f"no signing key with kid {kid!r}") from None

    def _reload(self) -> None:
        try:
            mtime = self.path.stat().st_mtime
            if mtime == self._read_mtime:
                return
            key_set = jwt.PyJWKSet.from_json(self.path.read_text())
        except (OSError, jwt.PyJWTError, ValueError) as error:
            log.error("signing keys cannot be read from %s: %s", self.path, error)
            raise ServiceUnavailable(KEYS_UNAVAILABLE) from None
        self._keys = {key.key_id: key for key in key_set.keys if key.key_id and key.public_key_use in ("sig", None)}
        self._read_mtime = mtime


class JwksEndpoint:
    """A JWKS served over http(s), cached by PyJWT and refetched for an unknown `kid`."""

    def __init__(self, url: str) -> None:
        self._client = jwt.PyJWKClient(url, cache_jwk_set=True, lifespan=300, timeout=5)

    def signing_key(self, kid: str) -> jwt.PyJWK:
        try:
            return self._client.get_signing_key(kid)
        except jwt.PyJWKClientConnectionError as error:
            log.error("signing keys cannot be fetched from %s: %s", self._client.uri, error)
            raise ServiceUnavailable(KEYS_UNAVAILABLE) from None
        except jwt.PyJWKClientError as error:
            raise InvalidToken(str(error)) from None


def key_source(jwks_url: str) -> JwksFile | JwksEndpoint:
    url = urlparse(jwks_url)
    if url.scheme == "file":
        return JwksFile(Path(unquote(url.path)))
    return JwksEndpoint(jwks_url)


class TokenVerifier:
    def __init__(
        self,
        *,
        keys: JwksFile | JwksEndpoint,
        issuer: str,
        audience: str,
        algorithms: Iterable[str],
        hs256_secret: str | None = None,
    ) -> None:
        self.keys = keys
        self.issuer = issuer
        self.audience = audience
        self.algorithms = [name for name in algorithms if name != "none" and not name.startswith("HS")]
        self.hs256_secret = hs256_secret
        # Tokens already verified, until they expire (at most VERIFIED_FOR_S): a client sends the same token with
        # every request, and an Ed25519 check in the thread pool costs more than the rest of a small request.
        self._verified: OrderedDict[str, tuple[Principal, float]] = OrderedDict()

    @classmethod
    def from_settings(cls, settings: ServiceSettings) -> "TokenVerifier":
        secret = settings.auth_hs256_secret
        return cls(
            keys=key_source(settings.auth_jwks_url),
            issuer=settings.auth_issuer,
            audience=settings.auth_audience,
            algorithms=settings.auth_algorithms,
            hs256_secret=secret.get_secret_value() if secret else None,
        )

    def verified(self, token: str) -> Principal | None:
        """The principal of a token `verify` accepted lately and that has not expired since; else None."""
        found = self._verified.get(token)
        if found is None or found[1] <= time.time():
            return None
        return found[0]

    def verify(self, token: str) -> Principal:
        """The principal a token names; `Unauthorized` if it is not one we issued and is valid now."""
        try:
            claims = self._claims(token)
            principal = self._principal(claims)
            self._verified[token] = (principal, min(float(claims["exp"]) + CLOCK_SKEW_S, time.time() + VERIFIED_FOR_S))
            while len(self._verified) > VERIFIED_KEEP:
                self._verified.popitem(last=False)
            return principal
        except InvalidToken as error:
            raise Unauthorized(f"invalid bearer token: {error}") from None
        except jwt.ExpiredSignatureError:
            raise Unauthorized("invalid bearer token: it has expired") from None
        except jwt.PyJWTError as error:
            raise Unauthorized(f"invalid bearer token: {error}") from None

    def _claims(self, token: str) -> dict[str, Any]:
        header = jwt.get_unverified_header(token)
        algorithm = header.get("alg")
        # The key and the one algorithm it may verify are chosen from our configuration, never
        # from the token alone, so `none` and HS256-with-a-public-key confusion cannot pass.
        if algorithm == "HS256" and self.hs256_secret is not None:
            key: Any = self.hs256_secret
            allowed = ["HS256"]
        elif algorithm in self.algorithms:
            kid = header.get("kid")
            if not isinstance(kid, str) or not kid:
                raise InvalidToken("the token header names no key (kid)")
            key = self.keys.signing_key(kid)
            allowed = [algorithm]
        else:
            raise InvalidToken(f"algorithm {algorithm!r} is not accepted")
        return jwt.decode(
            token,
            key,
            algorithms=allowed,
            audience=self.audience,
            issuer=self.issuer,
            leeway=CLOCK_SKEW_S,
            options={"require": ["sub", "iss", "aud", "exp", "iat"], "enforce_minimum_key_length": True},
        )

    @staticmethod
    def _principal(claims: dict[str, Any]) -> Principal:
        listed = claims.get("roles", [])
        if not isinstance(listed, list) or not all(isinstance(role, str) for role in listed):
            raise InvalidToken("the roles claim must be a list of strings")
        # Roles of other systems an identity provider may add are ignored, not refused.
        roles = frozenset(Role(role) for role in listed if role in _ROLE_NAMES)
        organization_id = claims.get("org")
        if organization_id is not None and not isinstance(organization_id, str):
            raise InvalidToken("the org claim must be a string")
        if roles & ORGANIZATION_ROLES and not organization_id:
            raise InvalidToken("an organization role needs the org claim")
        return Principal(subject=str(claims["sub"]), roles=roles, organization_id=organization_id or None)


def install_authentication(app: FastAPI, settings: ServiceSettings) -> TokenVerifier:
    app.state.token_verifier = TokenVerifier.from_settings(settings)
    return app.state.token_verifier


_bearer = HTTPBearer(auto_error=False, bearerFormat="JWT", description="A JWT from the TITP issuer")


async def authenticate(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials:
        raise Unauthorized()
    verifier: TokenVerifier = request.app.state.token_verifier
    token = credentials.credentials
    # A token not seen lately is checked in the thread pool, so fetching a JWKS never blocks the loop.
    principal = verifier.verified(token)
    if principal is None:
        principal = await run_in_threadpool(verifier.verify, token)
    request.state.principal = principal
    limit_writes(request.method, request.app.state, principal.subject)
    return principal


CurrentPrincipal = Annotated[Principal, Depends(authenticate)]


class RoleRequirement:
    """A dependency yielding the caller if they hold any of `roles`, else 403.

    Routes declare who may call them with it; `roles` lets tests and docs read the declaration back.
    """

    def __init__(self, roles: frozenset[Role]) -> None:
        self.roles = roles

    async def __call__(self, principal: CurrentPrincipal) -> Principal:
        if not principal.roles & self.roles:
            raise Forbidden(f"this request needs one of the roles: {', '.join(sorted(self.roles))}")
        return principal


def require_roles(*roles: Role | str) -> RoleRequirement:
    wanted = frozenset(Role(role) for role in roles)
    if not wanted:
        raise ValueError("require_roles needs at least one role")
    return RoleRequirement(wanted)


def declared_roles(dependant: Any) -> frozenset[Role] | None:
    """The roles a route's dependencies (a FastAPI `Dependant`) let in: None if it declares none.

    Several requirements on one route must all hold, so the roles let in are those in every one.
    """
    found: list[frozenset[Role]] = []
    pending = list(dependant.dependencies)
    while pending:
        sub = pending.pop()
        if isinstance(sub.call, RoleRequirement):
            found.append(sub.call.roles)
        pending.extend(sub.dependencies)
    return frozenset.intersection(*found) if found else None


OtitOfficer = Annotated[Principal, Depends(require_roles(Role.OTIT))]
ImmigrationOfficer = Annotated[Principal, Depends(require_roles(Role.IMMIGRATION))]
Auditor = Annotated[Principal, Depends(require_roles(Role.AUDITOR))]
Admin = Annotated[Principal, Depends(require_roles(Role.ADMIN))]
OrganizationMember = Annotated[Principal, Depends(require_roles(*ORGANIZATION_ROLES))]


# The dev issuer: a key pair on disk and tokens signed with it, for local use and tests.

KeyType = Literal["ed25519", "rsa"]


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _b64url_int(value: int) -> str:
    return _b64url(value.to_bytes((value.bit_length() + 7) // 8, "big"))


def _public_jwk(private_key: ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey) -> dict[str, str]:
    if isinstance(private_key, ed25519.Ed25519PrivateKey):
        raw = private_key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        jwk = {"kty": "OKP", "crv": "Ed25519", "x": _b64url(raw)}
        algorithm = "EdDSA"
    else:
        numbers = private_key.public_key().public_numbers()
        jwk = {"kty": "RSA", "n": _b64url_int(numbers.n), "e": _b64url_int(numbers.e)}
        algorithm = "RS256"
    # kid = RFC 7638 thumbprint: the required members, sorted, no whitespace.
    thumbprint = hashlib.sha256(json.dumps(jwk, sort_keys=True, separators=(",", ":")).encode()).digest()
    return {**jwk, "kid": _b64url(thumbprint), "alg": algorithm, "use": "sig"}


def _write_private(path: Path, data: bytes) -> None:
    temporary = path.with_suffix(".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(data)
    temporary.replace(path)


def ensure_dev_keys(folder: Path, key_type: KeyType = "ed25519") -> Path:
    """Create the dev signing key and its public JWKS in `folder` unless they exist."""
    private_path, jwks_path = folder / PRIVATE_KEY_FILE, folder / JWKS_FILE
    if private_path.exists() and jwks_path.exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    if private_path.exists():
        private_key = _load_private_key(folder)
    elif key_type == "ed25519":
        private_key = ed25519.Ed25519PrivateKey.generate()
    else:
        private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    _write_private(private_path, pem)
    jwks_path.write_text(json.dumps({"keys": [_public_jwk(private_key)]}, indent=2) + "\n")
    return folder


def _load_private_key(folder: Path) -> ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key((folder / PRIVATE_KEY_FILE).read_bytes(), password=None)
    if not isinstance(key, ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey):
        raise ValueError(f"{folder / PRIVATE_KEY_FILE} is neither an Ed25519 nor an RSA key")
    return key


def default_dev_keys_dir() -> Path:
    """`$TITP_DATA_DIR/dev-keys`, by default `<repo>/.data/dev-keys`, as in `ServiceSettings`."""
    return Path(os.environ.get("TITP_DATA_DIR") or REPO_ROOT / ".data").resolve() / "dev-keys"


def mint_token(
    roles: Iterable[Role | str],
    org: str | None = None,
    subject: str = "dev-user",
    ttl: int = 3600,
    *,
    keys_dir: Path | None = None,
    issuer: str = DEV_ISSUER,
    audience: str = DEV_AUDIENCE,
    now: int | None = None,
) -> str:
    """A token signed with the dev key in `keys_dir`, created there first if missing."""
    roles = [Role(role).value for role in roles]
    if not roles:
        raise ValueError("a token needs at least one role")
    if set(roles) & ORGANIZATION_ROLES and not org:
        raise ValueError("supervising_org and implementing_org tokens need an organization id (org)")
    keys_dir = ensure_dev_keys(keys_dir or default_dev_keys_dir())
    private_key = _load_private_key(keys_dir)
    jwk = _public_jwk(private_key)
    issued_at = int(time.time()) if now is None else now
    claims: dict[str, Any] = {
        "iss": issuer,
        "aud": audience,
        "sub": subject,
        "roles": roles,
        "iat": issued_at,
        "exp": issued_at + ttl,
        "jti": str(uuid.uuid4()),
    }
    if org:
        claims["org"] = org
    return jwt.encode(claims, private_key, algorithm=jwk["alg"], headers={"kid": jwk["kid"]})
