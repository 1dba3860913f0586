"""The platform's migrations form one chain: two changes made side by side that each add a
revision after the same parent leave two heads, and `upgrade head` then refuses to run at all."""

from __future__ import annotations

from alembic.script import ScriptDirectory

from store.migrate import alembic_config


def test_the_migrations_have_one_head():
    heads = ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads()
    assert len(heads) == 1, f"several migration heads {heads}: chain the newer after the other"
