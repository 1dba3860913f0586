"""Reading and validating an operation's `params` dict, naming the offending field on error."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from providers.service_templates.errors import InvalidOperationParams
from providers.service_templates.identifiers import validate_identifier


class Params:
    """Typed accessors over `params`; `finish()` rejects anything the operation did not read.

    Unknown keys are an error rather than ignored because a typo (`ttl` for `ttl_seconds`)
    would otherwise silently change what the operation does. Values are never echoed in
    messages: a misplaced password must not come back in an error.
    """

    def __init__(self, params: Mapping[str, Any] | None) -> None:
        if params is None:
            params = {}
        if not isinstance(params, Mapping):
            raise InvalidOperationParams("params must be a JSON object", field="params")
        self._params = dict(params)
        self._read: set[str] = set()

    def _get(self, name: str) -> Any:
        self._read.add(name)
        return self._params.get(name)

    def raw(self, name: str) -> Any:
        """The value as given (None if absent), for parameters with their own validation."""
        return self._get(name)

    def string(
        self,
        name: str,
        *,
        required: bool = True,
        default: str | None = None,
        max_length: int = 100_000,
    ) -> str | None:
        value = self._get(name)
        if value is None:
            if required:
                raise InvalidOperationParams(f"missing required parameter {name!r}", field=name)
            return default
        if not isinstance(value, str):
            raise InvalidOperationParams(f"parameter {name!r} must be a string", field=name)
        if not value.strip():
            raise InvalidOperationParams(f"parameter {name!r} must not be empty", field=name)
        if len(value) > max_length:
            raise InvalidOperationParams(
                f"parameter {name!r} is longer than {max_length} characters", field=name
            )
        if "\x00" in value:
            raise InvalidOperationParams(
                f"parameter {name!r} must not contain NUL characters", field=name
            )
        return value

    def required_string(self, name: str, *, max_length: int = 100_000) -> str:
        value = self.string(name, required=True, max_length=max_length)
        assert value is not None
        return value

    def identifier(self, name: str) -> str:
        self._read.add(name)
        if name not in self._params or self._params[name] is None:
            raise InvalidOperationParams(f"missing required parameter {name!r}", field=name)
        return validate_identifier(self._params[name], field=name)

    def integer(
        self,
        name: str,
        *,
        default: int | None = None,
        minimum: int | None = None,
        maximum: int | None = None,
    ) -> int | None:
        value = self._get(name)
        if value is None:
            return default
        # bool is an int subclass; `true` is never a meaningful count.
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidOperationParams(f"parameter {name!r} must be an integer", field=name)
        if minimum is not None and value < minimum:
            raise InvalidOperationParams(f"parameter {name!r} must be >= {minimum}", field=name)
        if maximum is not None and value > maximum:
            raise InvalidOperationParams(f"parameter {name!r} must be <= {maximum}", field=name)
        return value

    def mapping(self, name: str) -> dict[str, Any] | None:
        value = self._get(name)
        if value is None:
            return None
        if not isinstance(value, Mapping):
            raise InvalidOperationParams(f"parameter {name!r} must be an object", field=name)
        return dict(value)

    def sequence(self, name: str) -> list[Any] | None:
        value = self._get(name)
        if value is None:
            return None
        if not isinstance(value, list | tuple):
            raise InvalidOperationParams(f"parameter {name!r} must be an array", field=name)
        return list(value)

    def finish(self) -> None:
        """Call after reading every parameter and before any side effect."""
        unexpected = sorted(set(self._params) - self._read)
        if unexpected:
            expected = ", ".join(sorted(self._read)) or "none"
            raise InvalidOperationParams(
                f"unexpected parameter {unexpected[0]!r:.80}; expected: {expected}",
                field=unexpected[0],
            )
