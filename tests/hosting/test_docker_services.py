"""Seed 001's Docker services through the API with a real worker, dev server and the local cloud's
Docker Engine: created from a ZIP and from a git repository, controlled, deleted without a trace;
bad archives and a failure mid-create leave nothing behind."""

from __future__ import annotations

import io
import sys
import uuid
import zipfile
from pathlib import Path

import bcrypt
import docker
import pytest

from contracts.hosting.services import SERVICE_ID_LABEL
from core.settings import Settings
from tests.helpers.platform import ApiServer, wait_for_job
from tests.hosting.conftest import hosting_settings

# Small bounds, so the refusals are quick to provoke (the API checks them before any job).
BOUNDS = {"hosting_upload_max_bytes": 4 * 1024 * 1024, "hosting_zip_max_entries": 100}


@pytest.fixture(scope="module")
def hosting_server(settings):
    with ApiServer(hosting_settings(settings).model_copy(update=BOUNDS)) as server:
        yield server


def _userid() -> str:
    return f"u-{uuid.uuid4().hex[:10]}"


def _name() -> str:
    return f"svc-{uuid.uuid4().hex[:8]}"


def _zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _docker(localcloud) -> docker.DockerClient:
    return docker.DockerClient(base_url=localcloud.url.replace("http://", "tcp://"))


def _leftovers(localcloud, service_id: int) -> dict[str, list]:
    client = _docker(localcloud)
    filters = {"label": [f"{SERVICE_ID_LABEL}={service_id}"]}
    return {
        "containers": client.api.containers(all=True, filters=filters),
        "networks": client.api.networks(filters=filters),
        "volumes": client.api.volumes(filters=filters).get("Volumes") or [],
    }


async def _user(hosting) -> str:
    userid = _userid()
    made = await hosting.post("/users", data={"userid": userid, "username": "Ana"})
    assert made.status_code == 201, made.text
    return userid


def _uploads(settings) -> list[Path]:
    directory = settings.resolved_hosting_uploads_dir
    return list(directory.iterdir()) if directory.exists() else []


def _url_ports(detail: dict) -> dict[str, str]:
    """The host port of each stored access URL, by Compose service."""
    return {service: url.rsplit(":", 1)[1] for service, url in detail["access_urls"].items()}


def _live_ports(detail: dict) -> dict[str, str]:
    """The host port each container publishes now (`HOST->PORT/tcp`), by Compose service."""
    return {c["service"]: p.split("->")[0] for c in detail["containers"] for p in c["ports"]}


def _filebrowser_password(localcloud, service_id: int) -> str:
    """The `--password` the service's Filebrowser container was started with."""
    filters = {"label": [f"{SERVICE_ID_LABEL}={service_id}"]}
    for summary in _docker(localcloud).api.containers(all=True, filters=filters):
        command = _docker(localcloud).api.inspect_container(summary["Id"])["Config"]["Cmd"]
        for argument in command or []:
            if argument.startswith("--password="):
                return argument.removeprefix("--password=")
    raise AssertionError(f"no Filebrowser container for service {service_id}")


async def _create(hosting, form: dict, zip_bytes: bytes | None = None):
    files = [(key, (None, value)) for key, value in form.items() if not isinstance(value, list)]
    for key, values in form.items():
        if isinstance(values, list):
            files += [(key, (None, v)) for v in values]
    if zip_bytes is not None:
        files.append(("zip_file", ("site.zip", zip_bytes, "application/zip")))
    return await hosting.post("/service", files=files)


async def test_a_service_from_a_zip_runs_is_controlled_and_deleted_without_a_trace(
    hosting, localcloud, settings
):
    userid = await _user(hosting)
    answer = await _create(
        hosting,
        {
            "userid": userid,
            "service_name": _name(),
            "service_types": ["Static", "MySQL"],
            "admin_pass": "s3cret-pass",
        },
        _zip({"index.html": b"<h1>hi</h1>", "css/site.css": b"body{}"}),
    )
    assert answer.status_code == 202, answer.text
    started = answer.json()
    service_id = started["service_id"]
    job = await wait_for_job(hosting, started["job_id"], seconds=90)
    assert job["status"] == "completed", job
    assert "s3cret-pass" not in str(job)

    detail = (await hosting.get(f"/service/{service_id}")).json()
    assert detail["status"] == "running"
    assert detail["access_url"].startswith("http://")
    assert set(detail["access_urls"]) == {"static", "filebrowser"}
    assert {c["service"] for c in detail["containers"]} == {"static", "mysql", "filebrowser"}
    assert all(c["state"] == "running" and c["health"] == "healthy" for c in detail["containers"])
    assert "services:" in detail["compose_file"] and "s3cret" not in detail["compose_file"]
    # Filebrowser got a bcrypt hash that the password verifies against (Go's bcrypt reads `$2b$`).
    password_hash = _filebrowser_password(localcloud, service_id)
    assert password_hash.startswith(f"$2b${settings.hosting_filebrowser_password_rounds:02d}$")
    assert bcrypt.checkpw(b"s3cret-pass", password_hash.encode())
    assert not bcrypt.checkpw(b"wrong-pass", password_hash.encode())
    workspace = settings.resolved_hosting_workspaces_dir / str(service_id)
    assert (workspace / "app" / "css" / "site.css").read_bytes() == b"body{}"
    assert _uploads(settings) == []

    assert _url_ports(detail) == _live_ports(detail)
    seen_ports = set(_url_ports(detail).values())
    for action, state in (("shutdown", "exited"), ("start", "running"), ("restart", "running")):
        control = await hosting.post(f"/control-service/{service_id}/{action}")
        assert control.status_code == 202, control.text
        done = await wait_for_job(hosting, control.json()["job_id"], seconds=60)
        assert done["status"] == "completed", done
        detail = (await hosting.get(f"/service/{service_id}")).json()
        assert {c["state"] for c in detail["containers"]} == {state}, action
        assert detail["status"] == ("stopped" if action == "shutdown" else "running")
        # The stored URLs follow the containers' host ports, which a start hands out anew; a
        # stopped service shows none (its old ports may be another service's by now).
        assert _url_ports(detail) == _live_ports(detail), action
        if action == "shutdown":
            assert detail["access_urls"] == {} and detail["access_url"] is None
        else:
            assert set(_url_ports(detail).values()).isdisjoint(seen_ports), action
            assert detail["access_url"] == detail["access_urls"]["static"]
            seen_ports |= set(_url_ports(detail).values())

    deleted = await hosting.post(f"/control-service/{service_id}/delete")
    assert (await wait_for_job(hosting, deleted.json()["job_id"]))["status"] == "completed"
    assert (await hosting.get(f"/service/{service_id}")).status_code == 404
    assert _leftovers(localcloud, service_id) == {"containers": [], "networks": [], "volumes": []}
    assert not workspace.exists()


async def test_a_service_from_a_git_repository(hosting, localcloud, settings):
    repo = f"site-{uuid.uuid4().hex[:8]}"
    localcloud.create_git_repo("conneskills", repo, {"app.py": "print('hi')\n"})
    userid = await _user(hosting)
    answer = await _create(
        hosting,
        {
            "userid": userid,
            "service_name": _name(),
            "service_types": "Python,Redis",
            "git_repo_url": f"https://github.com/conneskills/{repo}",
        },
    )
    assert answer.status_code == 202, answer.text
    job = await wait_for_job(hosting, answer.json()["job_id"], seconds=90)
    assert job["status"] == "completed", job
    service_id = answer.json()["service_id"]
    app = settings.resolved_hosting_workspaces_dir / str(service_id) / "app"
    assert (app / "app.py").read_text() == "print('hi')\n"
    assert not (app / ".git").exists()
    deleted = await hosting.post(f"/control-service/{service_id}/delete")
    assert (await wait_for_job(hosting, deleted.json()["job_id"]))["status"] == "completed"
    assert _leftovers(localcloud, service_id)["containers"] == []


def _symlink_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        link = zipfile.ZipInfo("evil")
        link.create_system = 3
        link.external_attr = 0o120777 << 16
        archive.writestr(link, "/etc/passwd")
    return buffer.getvalue()


def _bomb() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("zeros.bin", b"\0" * (20 * 1024 * 1024))
    return buffer.getvalue()


@pytest.mark.parametrize(
    "archive",
    [
        pytest.param(lambda: _zip({"../escape.txt": b"x"}), id="zip-slip"),
        pytest.param(lambda: _zip({"/etc/cron.d/x": b"x"}), id="absolute"),
        pytest.param(_symlink_zip, id="symlink"),
        pytest.param(_bomb, id="bomb"),
        pytest.param(lambda: b"not a zip at all", id="not-a-zip"),
    ],
)
async def test_a_bad_archive_is_refused_with_nothing_created(hosting, settings, archive):
    userid = await _user(hosting)
    answer = await _create(
        hosting,
        {"userid": userid, "service_name": _name(), "service_types": ["Static"]},
        archive(),
    )
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["code"] == "invalid_archive"
    assert (await hosting.get(f"/users/{userid}")).json()["services"] == []
    assert _uploads(settings) == []


async def test_too_many_entries_and_an_oversized_upload_are_refused(
    hosting, hosting_server, settings
):
    userid = await _user(hosting)
    many = _zip({f"f{i}.txt": b"x" for i in range(BOUNDS["hosting_zip_max_entries"] + 1)})
    answer = await _create(
        hosting, {"userid": userid, "service_name": _name(), "service_types": ["Static"]}, many
    )
    assert answer.status_code == 400 and "entries" in answer.json()["error"]["message"]
    big = b"\0" * (BOUNDS["hosting_upload_max_bytes"] + 1)
    answer = await _create(
        hosting, {"userid": userid, "service_name": _name(), "service_types": ["Static"]}, big
    )
    assert answer.status_code == 413, answer.text
    assert (await hosting.get(f"/users/{userid}")).json()["services"] == []
    assert _uploads(settings) == []


async def test_the_form_is_checked_before_any_job(hosting, settings):
    userid = await _user(hosting)
    base = {"userid": userid, "service_name": _name()}
    cases = [
        {**base},  # no type
        {**base, "service_types": ["Nope"]},
        {**base, "service_types": ["Static"], "primary_app_type": "PHP"},
        {**base, "service_types": ["Static"], "git_repo_url": "http://github.com/a/b"},
        {**base, "service_types": ["Static"], "git_repo_url": "https://evil.example/a/b"},
        {**base, "service_types": ["Filebrowser"]},  # needs admin_pass
        # 40 characters but 80 bytes: more than the 72 bytes bcrypt reads.
        {**base, "service_types": ["Filebrowser"], "admin_pass": "ñ" * 40},
        {**base, "service_types": ["Static"], "unknown": "x"},
        {**base, "service_types": ["Static"], "service_name": "Bad Name"},
    ]
    for form in cases:
        answer = await _create(hosting, form)
        assert answer.status_code == 400, (form, answer.text)
        assert answer.json()["error"]["code"] == "validation_error"
    both = await _create(
        hosting,
        {**base, "service_types": ["Static"], "git_repo_url": "https://github.com/a/b"},
        _zip({"a": b"b"}),
    )
    assert both.status_code == 400 and _uploads(settings) == []
    json_body = await hosting.post("/service", json={"userid": userid})
    assert json_body.status_code == 415
    assert (await hosting.post("/control-service/1/explode")).status_code == 400
    assert (await hosting.post("/control-service/999999/start")).status_code == 404
    assert (await hosting.get("/service/999999")).status_code == 404


async def test_a_create_refused_for_its_user_or_name_makes_no_password_hash(
    hosting, monkeypatch: pytest.MonkeyPatch
):
    hashed: list[bytes] = []
    hashpw = bcrypt.hashpw
    monkeypatch.setattr(bcrypt, "hashpw", lambda *a: hashed.append(a[0]) or hashpw(*a))
    form = {"service_types": ["Static"], "admin_pass": "s3cret-pass"}
    unknown = await _create(hosting, {**form, "userid": "nobody-here", "service_name": _name()})
    assert unknown.status_code == 400 and "no hosting user" in unknown.text
    userid = await _user(hosting)
    first = await _create(hosting, {**form, "userid": userid, "service_name": "taken"})
    assert first.status_code == 202, first.text
    assert len(hashed) == 1
    taken = await _create(hosting, {**form, "userid": userid, "service_name": "taken"})
    assert taken.status_code == 409, taken.text
    assert len(hashed) == 1
    await wait_for_job(hosting, first.json()["job_id"], seconds=90)
    gone = await hosting.post(f"/control-service/{first.json()['service_id']}/delete")
    assert (await wait_for_job(hosting, gone.json()["job_id"]))["status"] == "completed"


def test_the_filebrowser_hash_costs_12_unless_configured():
    from api.logic.hosting.services import hash_password

    assert Settings().hosting_filebrowser_password_rounds == 12
    assert hash_password("pass", Settings().hosting_filebrowser_password_rounds).startswith(
        "$2b$12$"
    )
    assert hash_password("pass", rounds=4).startswith("$2b$04$")


async def test_a_taken_name_is_a_409(hosting):
    userid = await _user(hosting)
    form = {"userid": userid, "service_name": _name(), "service_types": ["Redis"]}
    first = await _create(hosting, form)
    assert first.status_code == 202, first.text
    again = await _create(hosting, form)
    assert again.status_code == 409 and again.json()["error"]["code"] == "service_exists"
    assert (await wait_for_job(hosting, first.json()["job_id"], seconds=90))[
        "status"
    ] == "completed"
    # Another user may use the name.
    other = await _create(hosting, {**form, "userid": await _user(hosting)})
    assert other.status_code == 202, other.text
    for answer in (first, other):
        await wait_for_job(hosting, answer.json()["job_id"], seconds=90)
        gone = await hosting.post(f"/control-service/{answer.json()['service_id']}/delete")
        await wait_for_job(hosting, gone.json()["job_id"])


async def test_a_failure_mid_create_leaves_nothing(hosting, clean_faults, settings):
    userid = await _user(hosting)
    name = _name()
    # The second container's create is refused for good (a 400 is final): the first container,
    # the network, the volumes, the workspace and the row must all go.
    clean_faults.inject_fault(
        method="POST",
        path_contains="-static-1",
        body_contains=f'"conneskills.hosting-user": "{userid}"',
        fail_next=1,
        code=400,
        message="injected: refused",
    )
    answer = await _create(
        hosting,
        {"userid": userid, "service_name": name, "service_types": ["Static", "Redis"]},
        _zip({"index.html": b"x"}),
    )
    assert answer.status_code == 202, answer.text
    service_id = answer.json()["service_id"]
    job = await wait_for_job(hosting, answer.json()["job_id"], seconds=90)
    assert job["status"] == "failed", job
    assert _leftovers(clean_faults, service_id) == {
        "containers": [],
        "networks": [],
        "volumes": [],
    }
    assert (await hosting.get(f"/service/{service_id}")).status_code == 404
    assert not (settings.resolved_hosting_workspaces_dir / str(service_id)).exists()
    assert _uploads(settings) == []


def test_the_filebrowser_hash_needs_no_crypt_module(monkeypatch):
    # Python 3.13 has no `crypt`: importing it there fails as it does here with the entry unset.
    monkeypatch.setitem(sys.modules, "crypt", None)
    from api.logic.hosting.services import hash_password

    hashed = hash_password("ñandú-pass", rounds=4)
    assert bcrypt.checkpw("ñandú-pass".encode(), hashed.encode())
