"""The snapshot's pieces that need no platform: a hosted service's id normalised where it stands for
the service (whatever id the run got), the platform's directories read as files with hashes, an IAM
binding's members as a set, and the verdict on a "change" job undone (its kept fields)."""

from __future__ import annotations

from tests.harness.snapshot import Normaliser, content, platform_files


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


def test_an_iam_policy_written_back_in_another_order_compares_equal():
    def service(members: list[str]) -> dict:
        return {"policy": {"etag": "x", "bindings": [{"role": "r", "members": members}]}}

    appended = service(["serviceAccount:a@p", "allUsers"])
    assert content(appended) == content(service(["allUsers", "serviceAccount:a@p"]))
    assert content(appended) != content(service(["serviceAccount:a@p"]))


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


def _change_outcome(status, modified, raw_fields, compensation):
    from tests.harness.cases import Outcome

    changes = {"left behind": [], "removed": [], "modified": modified}
    fields = {key: ["config.<id>"] for key in raw_fields}
    return Outcome(
        status, changes, modified_fields=fields, raw_fields=raw_fields, compensation=compensation
    )


def test_a_change_undone_puts_back_all_but_its_kept_fields_and_reports_them():
    from tests.harness.cases import verdict
    from tests.harness.scenarios import SCENARIOS

    scenario = SCENARIOS["UpdateVM"]
    footprint = {"left behind": [], "removed": [], "modified": ["proxmox.vms <vm-id>"]}
    vm = "proxmox.vms <vm-id>"
    kept = [{"step": "VM 100's disk: left …", "status": "kept"}]
    # Everything put back: nothing to say.
    assert verdict(scenario, _change_outcome("failed", [], {}, []), footprint, "fail_after") == []
    # The grown disk left, reported kept: as the rule says.
    grown = _change_outcome("failed", [vm], {vm: ["config.scsi0"]}, kept)
    assert verdict(scenario, grown, footprint, "fail_after") == []
    # The same, not reported: a problem.
    silent = _change_outcome("cancelled", [vm], {vm: ["config.scsi0"]}, [])
    assert "without reporting it kept" in verdict(scenario, silent, footprint, "cancel")[0]
    # Cores left changed (a field with an undo): not put back.
    cores = _change_outcome("failed", [vm], {vm: ["config.cores"]}, kept)
    assert "did not put back" in verdict(scenario, cores, footprint, "fail_before")[0]
