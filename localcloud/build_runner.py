"""What a Cloud Build build does in the local cloud: read the real build config from the repository at
the built commit, substitute variables, and play its steps against that commit's files: `docker build`
needs its Dockerfile (and fails on `RUN exit N` / `RUN false`), `docker push` and `images:` push only
tags built before, into an Artifact Registry repository that exists."""

from __future__ import annotations

import hashlib
import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import yaml

_CONFIG_KEYS = {
    "steps", "images", "substitutions", "options", "timeout", "tags", "serviceAccount",
    "logsBucket", "artifacts", "availableSecrets", "secrets", "queueTtl",
}  # fmt: skip
_STEP_KEYS = {
    "name", "args", "id", "entrypoint", "dir", "env", "waitFor", "secretEnv", "volumes",
    "timeout", "script", "allowFailure", "allowExitCodes", "automapSubstitutions",
}  # fmt: skip
_VARIABLE = re.compile(r"\$(\$|\{([A-Z_][A-Z0-9_]*)\}|([A-Z_][A-Z0-9_]*))")
_DOCKER = {"gcr.io/cloud-builders/docker", "docker", "gcr.io/cloud-builders/docker:latest"}


class BuildConfigError(ValueError):
    """The build config cannot run: the build fails before any step."""


@dataclass
class Outcome:
    status: str  # SUCCESS or FAILURE
    detail: str = ""
    pushed: list[str] = field(default_factory=list)
    steps: list[dict[str, Any]] = field(default_factory=list)


def parse_config(text: str | None, path: str) -> dict[str, Any]:
    if text is None:
        raise BuildConfigError(
            f"failed to get build config: {path} does not exist in the repository"
        )
    try:
        config = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise BuildConfigError(f"failed unmarshalling build config {path}: {exc}") from None
    if not isinstance(config, dict):
        raise BuildConfigError(f"failed unmarshalling build config {path}: not a mapping")
    unknown = set(config) - _CONFIG_KEYS
    if unknown:
        raise BuildConfigError(f'invalid build config {path}: unknown field "{sorted(unknown)[0]}"')
    steps = config.get("steps")
    if not isinstance(steps, list) or not steps:
        raise BuildConfigError("invalid build: no build steps specified")
    for number, step in enumerate(steps):
        if not isinstance(step, dict) or not step.get("name"):
            raise BuildConfigError(f"invalid build: build step {number} must specify name")
        if set(step) - _STEP_KEYS:
            raise BuildConfigError(f"invalid build step {number}: unknown field")
    return config


def substitute(value: Any, variables: dict[str, str]) -> Any:
    if isinstance(value, list):
        return [substitute(v, variables) for v in value]
    if not isinstance(value, str):
        return value

    def one(match: re.Match) -> str:
        if match.group(1) == "$":
            return "$"
        key = match.group(2) or match.group(3)
        return variables.get(key, match.group(0))

    return _VARIABLE.sub(one, value)


def run(
    config: dict[str, Any],
    variables: dict[str, str],
    read_file: Callable[[str], str | None],
    push: Callable[[str, str], str | None],
) -> Outcome:
    """Plays the steps; `read_file(path)` reads the commit, `push(ref, digest)` says why a push fails."""
    variables = {**{k: str(v) for k, v in (config.get("substitutions") or {}).items()}, **variables}
    built: dict[str, str] = {}
    outcome = Outcome(status="SUCCESS")
    for number, step in enumerate(config["steps"]):
        args = [str(a) for a in substitute(step.get("args") or [], variables)]
        record = {"name": step["name"], "args": args, "status": "SUCCESS"}
        outcome.steps.append(record)
        error = None
        if step["name"] in _DOCKER and args[:1] == ["build"]:
            error = _docker_build(args[1:], step.get("dir", ""), read_file, built, variables)
        elif step["name"] in _DOCKER and args[:1] == ["push"]:
            error = _docker_push(args[1:], built, push, outcome.pushed)
        if error:
            record["status"] = "FAILURE"
            outcome.status = "FAILURE"
            outcome.detail = f'Build step {number} "{step["name"]}" failed: {error}'
            return outcome
    for ref in substitute(config.get("images") or [], variables):
        error = _push_one(str(ref), built, push, outcome.pushed)
        if error:
            outcome.status = "FAILURE"
            outcome.detail = f"failed to push images: {error}"
            return outcome
    return outcome


def _docker_build(args, directory, read_file, built, variables) -> str | None:
    tags, dockerfile, positional = [], None, []
    items = iter(args)
    for arg in items:
        if arg in ("-t", "--tag"):
            tags.append(next(items, ""))
        elif arg.startswith("--tag="):
            tags.append(arg.split("=", 1)[1])
        elif arg in ("-f", "--file"):
            dockerfile = next(items, "")
        elif arg.startswith("--file="):
            dockerfile = arg.split("=", 1)[1]
        elif arg.startswith("-"):
            if arg in ("--build-arg", "--target", "--platform", "--cache-from", "--label"):
                next(items, None)
        else:
            positional.append(arg)
    if not positional:
        return '"docker build" requires exactly 1 argument.'
    context = _join(directory, positional[-1])
    path = _join(context, "Dockerfile") if dockerfile is None else _join(directory, dockerfile)
    text = read_file(path)
    if text is None:
        return (
            "unable to prepare context: unable to evaluate symlinks in Dockerfile path: "
            f"lstat /workspace/{path}: no such file or directory"
        )
    problem = _dockerfile_problem(text)
    if problem:
        return problem
    digest = (
        "sha256:" + hashlib.sha256((text + variables.get("COMMIT_SHA", "")).encode()).hexdigest()
    )
    for tag in tags:
        built[_with_tag(tag)] = digest
    return None


def _dockerfile_problem(text: str) -> str | None:
    instructions = [
        line.strip()
        for line in text.splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]
    if not instructions or not instructions[0].upper().startswith(("FROM", "ARG")):
        return "failed to solve: no build stage in current context"
    for line in instructions:
        keyword, _, rest = line.partition(" ")
        if keyword.upper() != "RUN":
            continue
        try:
            words = shlex.split(rest)
        except ValueError:
            words = rest.split()
        if words[:1] == ["false"] or (words[:1] == ["exit"] and words[1:2] not in (["0"], [])):
            code = 1 if words[:1] == ["false"] else words[1]
            return f"The command '/bin/sh -c {rest}' returned a non-zero code: {code}"
    return None


def _docker_push(args, built, push, pushed) -> str | None:
    all_tags = "--all-tags" in args or "-a" in args
    names = [a for a in args if not a.startswith("-")]
    if len(names) != 1:
        return '"docker push" requires exactly 1 argument.'
    if not all_tags:
        return _push_one(names[0], built, push, pushed)
    refs = [ref for ref in built if ref.rsplit(":", 1)[0] == names[0]]
    if not refs:
        return f"An image does not exist locally with the tag: {names[0]}"
    for ref in refs:
        error = _push_one(ref, built, push, pushed)
        if error:
            return error
    return None


def _push_one(ref, built, push, pushed) -> str | None:
    ref = _with_tag(ref)
    if ref not in built:
        return f"An image does not exist locally with the tag: {ref}"
    error = push(ref, built[ref])
    if error:
        return error
    if ref not in pushed:
        pushed.append(ref)
    return None


def _with_tag(ref: str) -> str:
    return ref if ":" in ref.rsplit("/", 1)[-1] else f"{ref}:latest"


def _join(base: str, path: str) -> str:
    parts = [p for p in f"{base}/{path}".split("/") if p not in ("", ".")]
    return "/".join(parts)
