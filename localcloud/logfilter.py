"""A subset of the Cloud Logging query language, compiled to a predicate over JSON log entries.

Supported: comparisons `FIELD OP VALUE` with OP in = != > >= < <= : =~ !~, values quoted or bare,
`FIELD:*` (field present), AND / OR / NOT / `-` / parentheses, juxtaposition as AND, and bare
values as a search over the whole entry. Fields are dotted paths (`resource.labels.service_name`,
`jsonPayload.user`, `labels."a/b"`); `severity` compares by level and `timestamp` /
`receiveTimestamp` as times. Anything else raises FilterError.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import unquote

from localcloud.logstore import SEVERITIES
from localcloud.naming import camel, parse_rfc3339

Predicate = Callable[[dict[str, Any]], bool]
_OPERATORS = ("=~", "!~", ">=", "<=", "!=", "=", ">", "<", ":")
_KEYWORDS = {"AND", "OR", "NOT"}
_IDENT = re.compile(r"[A-Za-z_@][A-Za-z0-9_@-]*")
_TIME_FIELDS = {"timestamp", "receiveTimestamp"}
_MISSING = object()


class FilterError(ValueError):
    pass


def compile_filter(text: str | None) -> Predicate:
    if not text or not text.strip():
        return lambda entry: True
    parser = _Parser(text)
    predicate = parser.expression()
    parser.skip_space()
    if not parser.at_end():
        raise FilterError(f"unexpected input at position {parser.pos}: {text[parser.pos :]!r}")
    return predicate


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def at_end(self) -> bool:
        return self.pos >= len(self.text)

    def skip_space(self) -> None:
        while not self.at_end() and self.text[self.pos].isspace():
            self.pos += 1

    def peek_keyword(self) -> str | None:
        self.skip_space()
        match = re.compile(r"(AND|OR|NOT)(?=[\s(]|$)").match(self.text, self.pos)
        return match.group(1) if match else None

    def expression(self) -> Predicate:
        terms = [self.conjunction()]
        while self.peek_keyword() == "OR":
            self.pos += 2
            terms.append(self.conjunction())
        return terms[0] if len(terms) == 1 else lambda e: any(t(e) for t in terms)

    def conjunction(self) -> Predicate:
        terms = [self.unary()]
        while True:
            keyword = self.peek_keyword()
            if keyword == "AND":
                self.pos += 3
            elif keyword == "OR" or self.at_end() or self.text[self.pos] == ")":
                break
            terms.append(self.unary())
        return terms[0] if len(terms) == 1 else lambda e: all(t(e) for t in terms)

    def unary(self) -> Predicate:
        keyword = self.peek_keyword()
        if keyword == "NOT":
            self.pos += 3
            inner = self.unary()
            return lambda e: not inner(e)
        if keyword is not None:
            raise FilterError(f"unexpected {keyword} at position {self.pos}")
        if self.at_end():
            raise FilterError("unexpected end of filter")
        if self.text[self.pos] == "-":
            self.pos += 1
            inner = self.unary()
            return lambda e: not inner(e)
        if self.text[self.pos] == "(":
            self.pos += 1
            inner = self.expression()
            self.skip_space()
            if self.at_end() or self.text[self.pos] != ")":
                raise FilterError("missing closing parenthesis")
            self.pos += 1
            return inner
        return self.comparison()

    def comparison(self) -> Predicate:
        start = self.pos
        if self.text[self.pos] == '"':
            return _search(self.quoted())
        path = self.field_path()
        self.skip_space()
        operator = next((op for op in _OPERATORS if self.text.startswith(op, self.pos)), None)
        if operator is None:
            # A bare word is a global search, e.g. `error` or `"connection refused"`.
            self.pos = start
            return _search(self.bare_value())
        self.pos += len(operator)
        self.skip_space()
        if self.at_end():
            raise FilterError(f"missing value after {operator!r}")
        if self.text.startswith("*", self.pos) and operator == ":":
            self.pos += 1
            return lambda e: _lookup(e, path) is not _MISSING
        value = self.quoted() if self.text[self.pos] == '"' else self.bare_value()
        return _comparison(path, operator, value)

    def field_path(self) -> list[str]:
        segments = []
        while True:
            if not self.at_end() and self.text[self.pos] == '"':
                segments.append(self.quoted())
            else:
                match = _IDENT.match(self.text, self.pos)
                if not match:
                    raise FilterError(f"expected a field name at position {self.pos}")
                segments.append(match.group(0))
                self.pos = match.end()
            if self.at_end() or self.text[self.pos] != ".":
                return segments
            self.pos += 1

    def quoted(self) -> str:
        self.pos += 1
        out = []
        while not self.at_end():
            char = self.text[self.pos]
            if char == "\\" and self.pos + 1 < len(self.text):
                out.append(self.text[self.pos + 1])
                self.pos += 2
                continue
            self.pos += 1
            if char == '"':
                return "".join(out)
            out.append(char)
        raise FilterError("unterminated string")

    def bare_value(self) -> str:
        start = self.pos
        while (
            not self.at_end() and not self.text[self.pos].isspace() and self.text[self.pos] != ")"
        ):
            self.pos += 1
        value = self.text[start : self.pos]
        if not value or value in _KEYWORDS:
            raise FilterError(f"expected a value at position {start}")
        return value


def _lookup(entry: dict[str, Any], path: list[str]) -> Any:
    current: Any = entry
    free_form = False  # under labels / payloads keys are taken literally
    for segment in path:
        if not isinstance(current, dict):
            return _MISSING
        key = segment if free_form else camel(segment)
        if key not in current:
            return _MISSING
        current = current[key]
        free_form = free_form or key in ("labels", "jsonPayload", "protoPayload")
    return current


def _comparison(path: list[str], operator: str, raw: str) -> Predicate:
    field = ".".join(camel(s) for s in path)
    try:
        if field == "severity":
            target: Any = _severity(raw)
        elif field in _TIME_FIELDS:
            target = parse_rfc3339(raw)
        else:
            target = raw
        if operator in ("=~", "!~"):
            regex = re.compile(raw)
    except (ValueError, re.error) as exc:
        raise FilterError(f"invalid value {raw!r} for {field}: {exc}") from None

    def predicate(entry: dict[str, Any]) -> bool:
        value = _lookup(entry, path)
        if value is _MISSING:
            return operator in ("!=", "!~")
        if field == "severity":
            value = _severity(value)
        elif field in _TIME_FIELDS:
            value = parse_rfc3339(str(value))
        elif field == "logName":
            value, wanted = unquote(str(value)), unquote(target)
            return _compare(value, operator, wanted, None)
        return _compare(value, operator, target, regex if operator in ("=~", "!~") else None)

    return predicate


def _compare(value: Any, operator: str, target: Any, regex: re.Pattern[str] | None) -> bool:
    if regex is not None:
        found = regex.search(_text(value)) is not None
        return found if operator == "=~" else not found
    if operator == ":":
        return str(target).lower() in _text(value).lower()
    if not isinstance(target, int | datetime):
        value, target = _coerce(value, target)
    ops: dict[str, Callable[[Any, Any], bool]] = {
        "=": lambda a, b: a == b,
        "!=": lambda a, b: a != b,
        ">": lambda a, b: a > b,
        ">=": lambda a, b: a >= b,
        "<": lambda a, b: a < b,
        "<=": lambda a, b: a <= b,
    }
    try:
        return ops[operator](value, target)
    except TypeError:
        return False


def _coerce(value: Any, target: str) -> tuple[Any, Any]:
    if isinstance(value, bool):
        return str(value).lower(), target.lower()
    if isinstance(value, int | float):
        try:
            return value, float(target)
        except ValueError:
            return str(value), target
    return _text(value), target


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _severity(value: Any) -> int:
    text = str(value).upper()
    if text in SEVERITIES:
        return SEVERITIES[text]
    if text.isdigit():
        return int(text)
    raise ValueError(f"unknown severity {value!r}")


def _search(term: str) -> Predicate:
    needle = term.lower()
    return lambda e: needle in json.dumps(e).lower()
