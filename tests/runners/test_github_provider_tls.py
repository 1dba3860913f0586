"""The runners' GitHub provider shares the process's TLS context: githubkit makes an httpx client
for every request, and each such client used to load the whole CA bundle again (~40 ms of CPU)."""

from __future__ import annotations

import ssl

import pytest

from contracts.runners.runners import RunnerTarget
from core.settings import Settings
from providers.github_runners import GitHubRunners
from tests.helpers.runners import new_repo


async def test_requests_to_github_build_no_tls_context_of_their_own(
    localcloud, monkeypatch: pytest.MonkeyPatch
):
    github = GitHubRunners(Settings(github_api_url=f"{localcloud.url}/github"))
    target = RunnerTarget(scope="repo", scope_name=new_repo(localcloud.url))
    built: list[ssl.SSLContext] = []
    create = ssl.create_default_context

    def counting(*args, **kwargs) -> ssl.SSLContext:
        built.append(context := create(*args, **kwargs))
        return context

    monkeypatch.setattr(ssl, "create_default_context", counting)
    runner_id, config = await github.jitconfig(target, "r-tls", ["x"], 1)
    assert runner_id and config
    assert [runner["name"] for runner in await github.list(target)] == ["r-tls"]
    assert await github.find(target, "r-tls") is not None
    assert built == []
