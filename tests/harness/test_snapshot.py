"""The snapshot's pieces that need no platform: a hosted service's id normalised where it stands for
the service (whatever id the run got), and the platform's directories read as files with hashes."""

from __future__ import annotations

from tests.harness.snapshot import Normaliser, platform_files


def test_a_service_id_reads_the_same_whatever_the_run_got():
    normalise = Normaliser(["hu-1a2b3c4d", "hs-5e6f7a8b"])
    for service_id in ("1", "17", "32768"):
        keys = [
            f"docker.containers /cs-svc-{service_id}-mysql-1",
            f"docker.volumes cs-svc-{service_id}_mysql-data",
            f"hosting.workspaces {service_id}/app/index.html",
        ]
        assert [normalise(key) for key in keys] == [
            "docker.containers /cs-svc-<service-id>-mysql-<id>",
            "docker.volumes cs-svc-<service-id>_mysql-data",
            "hosting.workspaces <service-id>/app/index.html",
        ]
    # Other numbers are not a service's id: they stay generated ids.
    assert normalise("docker.containers /other-17") == "docker.containers /other-<id>"
    assert normalise("hosting.uploads upload-0a1b2c.zip") == "hosting.uploads upload-<id>.zip"
    assert (
        normalise("platform.hosting_services hs-5e6f7a8b") == "platform.hosting_services <name-b>"
    )


def test_platform_files_are_keyed_by_path_with_their_contents_hashed(tmp_path):
    workspaces, uploads = tmp_path / "services", tmp_path / "uploads"
    (workspaces / "3" / "app").mkdir(parents=True)
    (workspaces / "3" / "app" / "index.html").write_text("hi")
    (workspaces / "3" / "app" / "link").symlink_to("index.html")
    found = platform_files(
        {"hosting.workspaces": workspaces, "hosting.uploads": uploads}  # uploads: not there
    )
    assert [(kind, key) for kind, key, _ in found] == [
        ("hosting.workspaces", "3/app/index.html"),
        ("hosting.workspaces", "3/app/link"),
    ]
    before = found[0][2]
    (workspaces / "3" / "app" / "index.html").write_text("changed")
    after = platform_files({"hosting.workspaces": workspaces})[0][2]
    assert before != after and len(after) == 64
    assert found[1][2] == "-> index.html"
