"""The `titp` command. Each command is a thin layer over a function of `shared` or a service."""

from pathlib import Path
from typing import Annotated

import typer

from shared import auth

app = typer.Typer(no_args_is_help=True, add_completion=False)


@app.callback()
def titp() -> None:
    """Operate the TITP back office."""


@app.command("dev-token")
def dev_token(
    role: Annotated[list[auth.Role], typer.Option("--role", help="Repeat for several roles.")],
    org: Annotated[str | None, typer.Option(help="Organization id, for supervising_org and implementing_org.")] = None,
    subject: Annotated[str, typer.Option(help="Who the token names (sub).")] = "dev-user",
    ttl: Annotated[int, typer.Option(min=1, help="Seconds until it expires.")] = 3600,
    keys_dir: Annotated[Path | None, typer.Option(help="Default: $TITP_DATA_DIR/dev-keys.")] = None,
    key_type: Annotated[str, typer.Option(help="ed25519 or rsa, if the keys are created now.")] = "ed25519",
    issuer: Annotated[str, typer.Option(envvar="TITP_AUTH_ISSUER")] = auth.DEV_ISSUER,
    audience: Annotated[str, typer.Option(envvar="TITP_AUTH_AUDIENCE")] = auth.DEV_AUDIENCE,
) -> None:
    """Print a bearer token signed by the dev issuer, creating its keys if missing."""
    if key_type not in ("ed25519", "rsa"):
        raise typer.BadParameter("ed25519 or rsa", param_hint="--key-type")
    folder = auth.ensure_dev_keys(keys_dir or auth.default_dev_keys_dir(), key_type)
    try:
        token = auth.mint_token(role, org, subject, ttl, keys_dir=folder, issuer=issuer, audience=audience)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None
    typer.echo(token)
