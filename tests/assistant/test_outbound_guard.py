"""The outbound guard (providers/outbound_http.py) on its own: which addresses and schemes it
refuses, what the allow-list lets through, and that a call connects to the address it checked."""

from __future__ import annotations

import pytest

from core.settings import Settings
from providers import outbound_http
from tests.helpers.local_http import LocalHttpServer


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://127.1.2.3:8080/",
        "http://localhost/",
        "http://[::1]/",
        "http://[::ffff:10.0.0.1]/",
        "http://0.0.0.0/",
        "http://10.0.0.1/",
        "http://172.16.5.4/",
        "http://192.168.0.1/",
        "http://100.64.0.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://169.254.1.1/",
        "http://[fe80::1]/",
        "http://[fd00:ec2::254]/",
        "http://[fc00::1]/",
        "http://224.0.0.1/",
        "http://240.0.0.1/",
        "file:///etc/passwd",
        "gopher://example.com/",
        "http://user:pass@example.com/",
        "http:///nohost",
    ],
)
async def test_refused(url):
    with pytest.raises(outbound_http.Refused):
        await outbound_http.check(Settings(), url)


async def test_public_addresses_pass_and_the_allow_list_names_addresses_networks_and_ports():
    assert str((await outbound_http.check(Settings(), "https://8.8.8.8/x")).address) == "8.8.8.8"
    allowing = Settings(outbound_allowed_addresses=["127.0.0.1:9000", "10.0.0.0/8", "[::1]:81"])
    for url in ("http://127.0.0.1:9000/", "http://10.9.8.7/", "http://[::1]:81/"):
        await outbound_http.check(allowing, url)
    for url in ("http://127.0.0.1:9001/", "http://192.168.0.1/", "http://[::1]:80/"):
        with pytest.raises(outbound_http.Refused):
            await outbound_http.check(allowing, url)


async def test_a_call_connects_to_the_checked_address_with_the_name_as_host():
    with LocalHttpServer(lambda seen: (200, {}, b"ok")) as server:
        settings = Settings(outbound_allowed_addresses=[f"127.0.0.1:{server.port}"])
        target = await outbound_http.check(settings, f"http://127.0.0.1:{server.port}/a?b=1")
        assert str(target.address) == "127.0.0.1"
        answer = await outbound_http.call(settings, "GET", f"http://127.0.0.1:{server.port}/a?b=1")
        assert answer.status == 200 and answer.body == b"ok"
        assert server.requests[0].path == "/a?b=1"
        assert server.requests[0].headers["host"] == f"127.0.0.1:{server.port}"


async def test_an_answer_over_the_size_limit_is_refused():
    with LocalHttpServer(lambda seen: (200, {}, b"x" * 5000)) as server:
        settings = Settings(
            outbound_allowed_addresses=[f"127.0.0.1:{server.port}"], outbound_max_bytes=1024
        )
        with pytest.raises(outbound_http.CallFailed):
            await outbound_http.call(settings, "GET", server.url)


async def test_credentials_are_not_sent_on_to_another_origin():
    with LocalHttpServer(lambda seen: (200, {}, b"landed")) as second:

        def first_answer(seen):
            return 302, {"Location": f"http://127.0.0.1:{second.port}/next"}, b""

        with LocalHttpServer(first_answer) as first:
            settings = Settings(
                outbound_allowed_addresses=[
                    f"127.0.0.1:{first.port}",
                    f"127.0.0.1:{second.port}",
                ]
            )
            answer = await outbound_http.call(
                settings, "GET", first.url, headers={"Authorization": "Bearer s3cret"}
            )
    assert answer.body == b"landed"
    assert first.requests[0].headers["authorization"] == "Bearer s3cret"
    assert "authorization" not in second.requests[0].headers
