"""`parley keys …`: encryption keys of stored conversations."""

from __future__ import annotations

import asyncio
from pathlib import Path

import typer

from parley.cli._stores import ENDPOINTS_OPTION, PROJECT_OPTION, read_endpoints
from parley.cli.app import app, console

keys_app = typer.Typer(
    help="Manage the keys that encrypt stored conversations.", no_args_is_help=True
)
app.add_typer(keys_app, name="keys")


@keys_app.command("generate")
def generate() -> None:
    """Print a new random AES-256 key (base64) for PARLEY_ENCRYPTION_KEY."""
    from parley.stores.crypto import EncryptionKey

    typer.echo(EncryptionKey.generate().to_base64())


@keys_app.command("rotate")
def rotate(project: Path = PROJECT_OPTION, endpoints: Path | None = ENDPOINTS_OPTION) -> None:
    """Re-encrypt every stored event with the current key.

    Set PARLEY_ENCRYPTION_KEY to the new key and PARLEY_ENCRYPTION_PREVIOUS_KEYS to the old
    one(s), run this, then drop the old keys.
    """
    from parley.stores.crypto import KEY_ENV, PREVIOUS_KEYS_ENV
    from parley.stores.errors import EncryptionError
    from parley.stores.factory import create_tracker_store
    from parley.stores.keys import load_cipher

    cipher = load_cipher(project)
    if cipher.current is None:
        raise EncryptionError(
            f"{KEY_ENV} is not set: set it to the new key (`parley keys generate`) and "
            f"{PREVIOUS_KEYS_ENV} to the old one(s)"
        )
    config = read_endpoints(project, endpoints)

    async def run() -> int:
        store = await create_tracker_store(config, project, cipher)
        try:
            return await store.reencrypt()
        finally:
            await store.close()

    changed = asyncio.run(run())
    console.print(f"Re-encrypted {changed} event(s) with key {cipher.key_id}.", highlight=False)
