"""GitHub REST for self-hosted runners on the local cloud, driven by `githubkit` as the platform
uses it (and PyGithub's expectations: `url` fields on the emulator's base URL)."""

from __future__ import annotations

import pytest
from githubkit import GitHub
from githubkit.exception import RequestFailed

from tests.helpers.runners import github, new_repo


@pytest.fixture
def gh(localcloud) -> GitHub:
    return GitHub(
        "test-token", base_url=f"{localcloud.url}/github", auto_retry=False, http_cache=False
    )


async def test_jit_config_list_get_and_delete_for_a_repo(gh, localcloud):
    owner, repo = new_repo(localcloud.url).split("/")
    answer = await gh.rest.actions.async_generate_runner_jitconfig_for_repo(
        owner, repo, data={"name": "r1", "runner_group_id": 1, "labels": ["gpu"]}
    )
    assert answer.status_code == 201
    runner = answer.parsed_data.runner
    assert runner.status == "offline" and answer.parsed_data.encoded_jit_config
    assert {label.name for label in runner.labels} == {"self-hosted", "Linux", "X64", "gpu"}
    listed = await gh.rest.actions.async_list_self_hosted_runners_for_repo(owner, repo, name="r1")
    assert listed.parsed_data.total_count == 1
    assert int(listed.headers["x-ratelimit-remaining"]) < 5000
    got = await gh.rest.actions.async_get_self_hosted_runner_for_repo(owner, repo, runner.id)
    assert got.parsed_data.name == "r1"
    deleted = await gh.rest.actions.async_delete_self_hosted_runner_from_repo(
        owner, repo, runner.id
    )
    assert deleted.status_code == 204
    with pytest.raises(RequestFailed) as gone:
        await gh.rest.actions.async_delete_self_hosted_runner_from_repo(owner, repo, runner.id)
    assert gone.value.response.status_code == 404


async def test_documented_errors(gh, localcloud):
    owner, repo = new_repo(localcloud.url).split("/")
    data = {"name": "same", "runner_group_id": 1, "labels": ["x"]}
    await gh.rest.actions.async_generate_runner_jitconfig_for_repo(owner, repo, data=data)
    with pytest.raises(RequestFailed) as conflict:
        await gh.rest.actions.async_generate_runner_jitconfig_for_repo(owner, repo, data=data)
    assert conflict.value.response.status_code == 409
    with pytest.raises(RequestFailed) as missing:
        await gh.rest.actions.async_generate_runner_jitconfig_for_repo(
            owner, "no-such-repo", data=data
        )
    assert missing.value.response.status_code == 404
    with github(localcloud.url) as raw:
        invalid = raw.post(
            f"/repos/{owner}/{repo}/actions/runners/generate-jitconfig",
            json={"name": "x", "runner_group_id": 1, "labels": []},
        )
        assert invalid.status_code == 422 and invalid.json()["errors"]
        anonymous = raw.get(f"/repos/{owner}/{repo}", headers={"Authorization": ""})
        assert anonymous.status_code == 401
        repo_body = raw.get(f"/repos/{owner}/{repo}").json()
        assert repo_body["url"] == f"{localcloud.url}/github/repos/{owner}/{repo}"


async def test_org_runners_groups_and_tokens(gh):
    groups = await gh.rest.actions.async_list_self_hosted_runner_groups_for_org("acme")
    assert [g.name for g in groups.parsed_data.runner_groups] == ["Default"]
    token = await gh.rest.actions.async_create_registration_token_for_org("acme")
    assert token.status_code == 201 and token.parsed_data.token
    answer = await gh.rest.actions.async_generate_runner_jitconfig_for_org(
        "acme", data={"name": "org-runner-x1", "runner_group_id": 1, "labels": ["l"]}
    )
    await gh.rest.actions.async_delete_self_hosted_runner_from_org(
        "acme", answer.parsed_data.runner.id
    )
    with pytest.raises(RequestFailed) as no_org:
        await gh.rest.actions.async_list_self_hosted_runners_for_org("no-such-org")
    assert no_org.value.response.status_code == 404
