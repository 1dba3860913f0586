"""Agents against seed 000 §4's contract: the prompt list is the seed's bare array, and the
unknown-prompt 400 names the field in the one `details.fields` shape, a list of `{field, message}`."""

from __future__ import annotations

from tests.provisioning.test_agents_e2e import AGENTS, PROMPT, body, customer  # noqa: F401


async def test_prompts_are_a_bare_array_as_in_the_seed(api):
    response = await api.get(f"{AGENTS}/prompts")
    assert response.status_code == 200, response.text
    prompts = response.json()
    assert isinstance(prompts, list)
    assert PROMPT in {p["prompt_id"] for p in prompts}


async def test_an_unknown_prompt_names_its_field_in_the_usual_list(api, customer):  # noqa: F811
    answer = await api.post(f"{AGENTS}/deploy", json=body(customer, "b", prompt_ref="nope"))
    assert answer.status_code == 400, answer.text
    error = answer.json()["error"]
    assert error["code"] == "validation_error"
    assert error["details"]["fields"] == [{"field": "prompt_ref", "message": "unknown prompt"}]
