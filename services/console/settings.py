"""The console's configuration, read from `TITP_CONSOLE_*` environment variables (nothing at import).

The console holds no data of its own: it needs the four services' addresses and a way to sign officers in.
Sign-in is either the dev issuer (`dev_sign_in`, the default locally: the console mints the officer's token
with the dev key in `<data_dir>/dev-keys`, the key `titp dev-token` uses) or any OpenID Connect issuer
(`oidc_issuer` + `oidc_client_id`): the officer signs in there and the console keeps the access token it gets,
which the services check against their own issuer and JWKS settings.
"""

from pathlib import Path
from typing import Literal

from pydantic import Field, HttpUrl, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.settings import DEFAULT_HTTP_PORTS, REPO_ROOT

CONSOLE_HTTP_PORT = 8000


def _local(service: str) -> str:
    return f"http://127.0.0.1:{DEFAULT_HTTP_PORTS[service]}"


class ConsoleSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TITP_CONSOLE_", extra="forbid", env_ignore_empty=True)

    http_host: str = "127.0.0.1"
    http_port: int = Field(CONSOLE_HTTP_PORT, ge=1, le=65535)
    http_header_timeout_s: float = Field(10.0, gt=0, description="A request's headers must be complete within this")
    access_log: bool = Field(False, description="A log line per HTTP request")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    log_json: bool = True
    registry_url: HttpUrl = HttpUrl(_local("registry"))
    accreditation_url: HttpUrl = HttpUrl(_local("accreditation"))
    inspection_url: HttpUrl = HttpUrl(_local("inspection"))
    visa_url: HttpUrl = HttpUrl(_local("visa"))
    service_timeout_s: float = Field(10.0, gt=0, description="How long a page waits for a service's answer")

    dev_sign_in: bool = Field(
        True, description="Officers pick a role and the console signs their token with the dev key (local only)"
    )
    data_dir: Path = Field(REPO_ROOT / ".data", description="Where the dev key is: <data_dir>/dev-keys")
    oidc_issuer: HttpUrl | None = Field(
        None, description="An OpenID Connect issuer; its /.well-known/openid-configuration is read at sign-in"
    )
    oidc_client_id: str | None = None
    oidc_client_secret: SecretStr | None = None
    oidc_scope: str = "openid"
    public_url: HttpUrl | None = Field(
        None, description="The console's own address as the browser sees it (the OIDC redirect goes to /auth/callback)"
    )
    secure_cookies: bool = Field(False, description="Mark the session cookie Secure (set it behind HTTPS)")
    session_max_s: int = Field(8 * 3600, ge=60, description="The longest a sign-in lasts (the token may end sooner)")

    @model_validator(mode="after")
    def _one_way_to_sign_in(self) -> "ConsoleSettings":
        if self.oidc_issuer is not None and not self.oidc_client_id:
            raise ValueError("TITP_CONSOLE_OIDC_CLIENT_ID is needed with TITP_CONSOLE_OIDC_ISSUER")
        if self.oidc_issuer is None and not self.dev_sign_in:
            raise ValueError("no way to sign in: set TITP_CONSOLE_OIDC_ISSUER or TITP_CONSOLE_DEV_SIGN_IN=true")
        return self

    @property
    def service(self) -> str:
        """Its name in the logs."""
        return "console"

    @property
    def dev_keys_dir(self) -> Path:
        return self.data_dir / "dev-keys"

    def service_url(self, service: str) -> str:
        url: HttpUrl = getattr(self, f"{service}_url")
        return str(url).rstrip("/")
