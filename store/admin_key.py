"""`make admin-key` (`python -m store.admin_key`): mints a new admin API key on the machine.

The way back in when no admin key is at hand (lost, or its holder gone): whoever can run commands on
the platform's machine, with its settings and database, can mint one. The key is stored hashed in
the platform database like any other, printed once on stdout, and written to the data dir's
`admin_api_key` file (mode 600), which `make run` prints at its next start and which the API
registers when it starts. Existing keys are left as they are: revoke the old one through the API
with the new key if it must go. The API need not be running, nor restarted: keys are looked up in
the database.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime

from core.local_keys import LocalKeyError, admin_key_path, replace
from core.settings import Settings, get_settings
from store import api_keys
from store.db import Database
from store.migrate import upgrade


async def mint(settings: Settings) -> str:
    """Stores a new admin key in the platform database and returns it in clear."""
    await asyncio.to_thread(upgrade, settings.resolved_database_url)
    db = Database(settings.resolved_database_url)
    try:
        name = f"admin (minted {datetime.now(UTC):%Y-%m-%d %H:%M:%S}Z)"
        async with db.transaction() as session:
            _, key = await api_keys.create(session, name, api_keys.ADMIN_SCOPES)
    finally:
        await db.dispose()
    return key


def main() -> int:
    settings = get_settings()
    path = admin_key_path(settings)
    key = asyncio.run(mint(settings))
    print(key, flush=True)
    try:
        replace(path, key)
    except LocalKeyError as error:
        print(f"the key is active but was not saved: {error}", file=sys.stderr)
        return 1
    note = f"new admin API key stored in the platform database and written to {path}"
    if settings.admin_api_key:
        note += " (CONNESKILLS_ADMIN_API_KEY is set, so `make run` prints that one instead)"
    print(note, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
