"""Writes pytest's cache of rewritten test modules before a run, once, a file per core at a time.

pytest rewrites the asserts of every test module and conftest it imports and caches the result in
`__pycache__` (`*.cpython-3xx-pytest-<version>.pyc`, keyed by the source's hash). On a fresh clone
there is no cache, and the suite's processes all start at once: each of the six rewrote the same
~150 files (about 3.3 s of CPU each, while the machine is busiest). `make test` runs this first:
the processes then load what it wrote, exactly as they would load what the first of them wrote.

It uses pytest's own rewrite and pyc writer (internal functions of `_pytest.assertion.rewrite`, as
pinned by the lock); should a pytest release change them, it says so and writes nothing, and each
process rewrites for itself as before.

    python -m tests.helpers.rewrite_cache
"""

from __future__ import annotations

import os
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Test modules, conftests, and the plugin modules conftests name in `pytest_plugins`.
PLUGINS = ("tests/helpers/localcloud_fixtures.py",)


def rewritten_files() -> list[Path]:
    tests = ROOT / "tests"
    return sorted(
        {*tests.rglob("test_*.py"), *tests.rglob("conftest.py"), *(ROOT / p for p in PLUGINS)}
    )


def cache_path(source: Path) -> Path:
    """Where pytest looks for `source`'s rewritten module."""
    from _pytest.assertion import rewrite

    return rewrite.get_cache_dir(source) / (source.name[:-3] + rewrite.PYC_TAIL)


def _write(source: Path) -> None:
    from _pytest.assertion import rewrite

    cache = cache_path(source)
    source_hash, code = rewrite._rewrite_test(source, None)
    cache.parent.mkdir(exist_ok=True)
    partial = cache.with_name(f"{cache.name}.{os.getpid()}")
    with partial.open("wb") as out:
        rewrite._write_pyc_fp(out, source_hash, code)
    os.replace(partial, cache)


def main() -> None:
    try:
        from _pytest.assertion import rewrite

        for name in ("get_cache_dir", "PYC_TAIL", "_rewrite_test", "_write_pyc_fp"):
            getattr(rewrite, name)
    except (ImportError, AttributeError) as missing:
        print(f"rewrite_cache: pytest's rewrite internals changed ({missing}); skipped")
        return
    if sys.dont_write_bytecode:
        return  # the suite's processes would not read a cache either way
    with ProcessPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        list(pool.map(_write, rewritten_files()))


if __name__ == "__main__":
    main()
