"""`make test`'s first step, pytest's cache of rewritten test modules (tests/helpers/rewrite_cache.py):
what it writes is what pytest reads, for every module pytest would rewrite."""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

from _pytest.assertion import rewrite

from tests.helpers.rewrite_cache import ROOT, _write, cache_path, rewritten_files


def test_pytest_loads_the_cache_it_writes_instead_of_rewriting(tmp_path: Path) -> None:
    source = tmp_path / "test_sample.py"
    shutil.copy(Path(__file__), source)
    _write(source)
    code = rewrite._read_pyc(source, cache_path(source), trace=lambda _message: None)
    assert code is not None and code.co_filename == str(source)
    # The asserts are pytest's rewritten ones (their intermediate values in `@py_assert` locals).
    functions = [const for const in code.co_consts if hasattr(const, "co_varnames")]
    assert any(name.startswith("@py_assert") for f in functions for name in f.co_varnames)


def test_it_covers_every_plugin_module_a_conftest_names() -> None:
    named = set()
    for conftest in ROOT.glob("tests/**/conftest.py"):
        for node in ast.walk(ast.parse(conftest.read_text())):
            if isinstance(node, ast.Assign) and any(
                getattr(target, "id", None) == "pytest_plugins" for target in node.targets
            ):
                modules = [element.value for element in node.value.elts]  # type: ignore[attr-defined]
                named |= {ROOT / (module.replace(".", "/") + ".py") for module in modules}
    assert named and named <= set(rewritten_files())
