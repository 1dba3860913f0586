"""What a job may leave behind, as a multiset of normalised resource keys: every resource of the
harness's own local cloud (each emulated API's collections, and the git repositories' branches by
tree), the platform's tables that model outside resources and the assistant's rows its jobs write
(learned APIs and their operations, messages), and the MariaDB / PostgreSQL databases and
users whose names carry one of the case's unique names (those servers are shared with the rest of
the suite, so only the case's own names are looked at there), and the platform's own directories
that hold what jobs make on disk (a hosted service's workspace, a pending upload): each file a
resource keyed by its path, its content a hash of its bytes.

Keys are normalised (the case's unique names become placeholders, generated ids and numbers become
`<id>`), so the resources of two runs of one scenario compare equal when they are "the same
things", and a Counter shows a duplicate as a count of two.

Contents are compared too: a resource there before and after whose fields differ is `modified` (a
service whose image a failed job changed, a secret version it destroyed, a customer row it left
in another status). Volatile fields (times, etags, generations, revision names, use counters, the
emulators' own `_…` bookkeeping, a container's daemon-assigned host ports and the loopback URLs
built on them: VOLATILE_FIELDS, and any value shaped like a timestamp) are left out first, so an untouched resource compares equal to itself. Databases and users on the shared
servers are compared by name only."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
import re
import sqlite3
import subprocess
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pymysql

from tests.helpers.platform import MYSQL_URL, POSTGRES_URL

# The emulators' records of calls rather than resources: logs, long-running operations, builds
# (a build is a run, not a thing left behind; a trigger or a repository is), Proxmox's tasks (a
# clone's, a power change's: each UPID a run's own, kept by PVE as its task log, never removed).
SKIPPED_COLLECTIONS = {"entries", "operations", "builds", "requests", "logs", "tasks"}
SKIPPED_APIS = {"cloud_logging"}
# What an emulator creates for itself on first use, as the real service has it from the start:
# Docker's default network, LiteLLM's prompt catalogue, an image pulled into Docker's cache.
# Proxmox's nodes and API token, and each node's template VMs (`tpl-<os>`, protected): the
# emulator writes them when it is first spoken to, a real cluster has them from the start.
BUILT_IN = {("docker.networks", "bridge")}
SEEDED = {"litellm.prompts", "docker.images", "proxmox.nodes", "proxmox.tokens"}
# The platform's tables that stand for outside resources (the audit trail and alerts only grow).
RESOURCE_TABLES = (
    "customers",
    "services",
    "external_services",
    "hosting_services",
    "hosting_vms",
    # The assistant's own rows that its jobs write (a learned API and its operations, a turn's
    # messages): nothing outside stands for them, so they are what such a job may leave behind.
    "assistant_learned_apis",
    "assistant_learned_operations",
    "assistant_messages",
)
# How a table's rows are keyed where no `name`-like field does it (_row_key): a learned operation by
# its tool name; a message by its role, so a turn's two read `user message` and `assistant message`
# whatever its (generated) turn id.
ROW_KEYS = {
    "assistant_learned_operations": lambda row: str(row["tool_name"]),
    "assistant_messages": lambda row: f"{row['role']} message",
}
# Rows kept as a ledger once what they stand for is gone: a VM's row is never deleted (so its VMID
# is never handed out twice), a failed create's is marked `failed`, a deleted VM's `deleted`. Such a
# row stands for no resource, so the snapshot leaves it out (a failed create leaves nothing; a
# completed delete removes the row's resource).
TOMBSTONES = {"hosting_vms": ("failed", "deleted")}
# Numbers that are a hosted service's id (the row's integer `service_id`) where they appear: its
# Compose project `cs-svc-<id>` (container, network and volume names) and its workspace directory.
# They become `<service-id>` before any other number becomes `<id>`, so a service's resources read
# as its own whatever id the run's service got.
_SERVICE_ID = re.compile(r"(?<=cs-svc-)\d+(?!\d)|(?<=^hosting\.workspaces )\d+(?=/)")
# A Proxmox VM's VMID where it names the VM: its key in the emulator's VMs and its HA resource
# (`vm:<vmid>`). It becomes `<vm-id>` the same way (the platform reserves a new one per create).
_VM_ID = re.compile(r"(?<=^proxmox\.vms )\d+$|(?<=^proxmox\.ha vm:)\d+$")
_GENERATED = re.compile(r"[0-9a-f]{8}-[0-9a-f-]{27}|[0-9a-z]*\d[0-9a-z]*", re.IGNORECASE)


def squash(text: str) -> str:
    """Lower case letters and digits only: `c1a2b3c4`, `C1A2B3C4` and `zenml_c1a2b3c4` share it."""
    return re.sub(r"[^a-z0-9]", "", text.lower())


class Normaliser:
    def __init__(self, tokens: list[str]) -> None:
        self.tokens = [t for t in tokens if t]

    def carries_token(self, text: str) -> bool:
        squashed = squash(text)
        return any(squash(token) in squashed for token in self.tokens)

    def __call__(self, text: str) -> str:
        for index, token in enumerate(self.tokens):
            parts = re.split(r"[-_]", token)
            pattern = re.compile("[-_]?".join(map(re.escape, parts)), re.IGNORECASE)
            text = pattern.sub(f"<name-{chr(ord('a') + index)}>", text)
        text = _SERVICE_ID.sub("<service-id>", text)
        text = _VM_ID.sub("<vm-id>", text)
        return _GENERATED.sub(lambda m: m.group(0) if m.group(0).isalpha() else "<id>", text)


def cloud_resources(cloud_dir: Path) -> list[tuple[str, str, str]]:
    """(kind, key, content) of every resource of the local cloud; content is the resource's
    fields less the volatile ones (content())."""
    found: list[tuple[str, str, str]] = []
    for path in sorted(cloud_dir.glob("*.json")):
        if path.stem in SKIPPED_APIS:
            continue
        document = json.loads(path.read_text() or "{}")
        for collection, items in document.items():
            kind = f"{path.stem}.{collection}"
            # Counters and settings (a next id) are no resources.
            if (
                collection in SKIPPED_COLLECTIONS
                or kind in SEEDED
                or not isinstance(items, dict | list)
            ):
                continue
            found.extend(
                (kind, key, content(item))
                for key, item in _items(items)
                if (kind, key) not in BUILT_IN and not _template_vm(kind, item)
            )
            found.extend(_versions(kind, items))
    found.extend(("git.branch", ref, "") for ref in _git_branches(cloud_dir / "git"))
    return found


# Fields whose value changes without the resource changing: times, etags, generations, revision
# names and the count of revisions a service has had (a configuration put back is a new revision,
# as in Cloud Run), counters of use, the emulators' own bookkeeping (`_exit_at`, a secret's `next`
# version).
VOLATILE_FIELDS = re.compile(
    r"^_|(time|_at|At|date|Date)$|^(etag|uid|generation|observedGeneration|reconciling|revisions|"
    r"latestReadyRevision|latestCreatedRevision|next|spend|last_used|lastUsed|Pid|"
    r"expires|expires_at|token|HostPort)$"
)
# A host port the Docker daemon hands out when a container starts (a restart moves it, as the
# real daemon does): not the platform's to put back, so neither it nor the access URLs built from
# it count as a change; that the URLs follow the live ports is tests/hosting's to check.
_URL_PORT = re.compile(r"(https?://(?:127\.0\.0\.1|localhost)):\d+")
_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$")
# What content() leaves out because it is a resource of its own (a secret's versions).
OWN_RESOURCES = {"versions"}
# Lists that are sets: an IAM binding's members (a policy written back with its members in another
# order grants the same; the platform writes them sorted, a console appends).
SET_FIELDS = {"members"}


def _strings(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def stable(value: object) -> object:
    """A resource's fields without the volatile ones (VOLATILE_FIELDS, timestamps), so that a
    resource nobody changed compares equal to itself across a case."""
    if isinstance(value, dict):
        return {
            key: sorted(item) if key in SET_FIELDS and _strings(item) else stable(item)
            for key, item in value.items()
            if not (isinstance(key, str) and VOLATILE_FIELDS.search(key))
            and key not in OWN_RESOURCES
        }
    if isinstance(value, list):
        return [stable(item) for item in value]
    if isinstance(value, str) and _TIMESTAMP.match(value):
        return "<time>"
    if isinstance(value, str):
        return _URL_PORT.sub(r"\1:<port>", value)
    return value


def content(item: object) -> str:
    return json.dumps(stable(item), sort_keys=True, default=str)


def changed_fields(before: str, after: str) -> list[str]:
    """The dotted paths of the fields that differ between two contents (`template.containers.0.
    image`), at most a few, for a verdict to name."""
    paths: list[str] = []

    def walk(old: object, new: object, path: str) -> None:
        if isinstance(old, dict) and isinstance(new, dict):
            for key in sorted(set(old) | set(new), key=str):
                walk(old.get(key), new.get(key), f"{path}.{key}" if path else str(key))
        elif isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
            for index, (a, b) in enumerate(zip(old, new, strict=True)):
                walk(a, b, f"{path}.{index}" if path else str(index))
        elif old != new:
            paths.append(path or "<value>")

    walk(json.loads(before or "null"), json.loads(after or "null"), "")
    return paths


def marked_by(cloud_dir: Path, job_ids: list[str]) -> list[str]:
    """The local cloud's resources that carry one of these job ids (the ownership mark: a label,
    key metadata, a description), matched as a whole id so `job-zenml` is not `job-zenml-deploy`."""
    if not job_ids:
        return []
    pattern = re.compile(r"(?<![\w-])(" + "|".join(map(re.escape, job_ids)) + r")(?![\w-])")
    marked = []
    for path in sorted(cloud_dir.glob("*.json")):
        if path.stem in SKIPPED_APIS:
            continue
        document = json.loads(path.read_text() or "{}")
        for collection, items in document.items():
            if collection in SKIPPED_COLLECTIONS or not isinstance(items, dict):
                continue
            for key, item in items.items():
                if pattern.search(json.dumps(item)):
                    marked.append(f"{path.stem}.{collection} {key}")
    return marked


def _template_vm(kind: str, item: object) -> bool:
    """A Proxmox template VM, which the emulator seeds on each node (BUILT_IN's reason)."""
    return kind == "proxmox.vms" and isinstance(item, dict) and item.get("template") is True


def _items(items: dict | list, outer: str = "") -> list[tuple[str, object]]:
    """A collection's resources by key; a value that is itself a collection (GitHub's runners per
    repository, Artifact Registry's images per repository) is looked into, so an empty one counts
    as nothing and two resources in it as two."""
    if isinstance(items, list):
        return [(outer + _item_key(item), item) for item in items]
    found = []
    for key, item in items.items():
        # An empty one is an empty collection: a resource always has fields.
        nested = isinstance(item, dict) and not _is_resource(item)
        if nested and all(isinstance(value, dict) for value in item.values()):
            found.extend(_items(item, f"{outer}{key}/"))
            continue
        found.append((outer + _item_key(item, default=key), item))
    return found


def _is_resource(item: dict) -> bool:
    return any(field in item for field in ("name", "Name", "id", "key", "alias", "secret"))


def _versions(kind: str, items: dict | list) -> list[tuple[str, str, str]]:
    """A secret's versions count too: a job that ran twice may have added a second one, and one
    that destroyed or disabled a version changed it."""
    if not isinstance(items, dict):
        return []
    return [
        (f"{kind}.versions", f"{key}/{number}", content(version))
        for key, item in items.items()
        if isinstance(item, dict) and isinstance(item.get("versions"), dict)
        for number, version in item["versions"].items()
    ]


def _item_key(item: object, default: str | None = None) -> str:
    """A resource's own name where it has one (a container's, not its generated id)."""
    if isinstance(item, dict):
        for field in ("name", "Name", "id", "key", "alias"):
            if isinstance(item.get(field), str | int):
                return str(item[field])
    return default if default is not None else json.dumps(item, sort_keys=True)


def _git_branches(root: Path) -> list[str]:
    """`owner/repo:branch@tree`: the tree, not the commit, so a revert counts as undone. Two git
    runs per repository (its refs, then all their trees at once), however many branches it has."""
    branches = []
    for repo in sorted(root.glob("*/*.git")):
        listing = subprocess.run(
            ["git", "for-each-ref", "--format=%(refname:short) %(objectname)^{tree}"],
            cwd=repo,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split("\n")
        refs = [line.split(" ") for line in filter(None, listing)]
        if not refs:
            continue
        # One line per argument, in order (an argument that names no tree prints itself back, as
        # the one-by-one `git rev-parse` it replaces printed it, or nothing, on a failure).
        trees = _rev_parse(repo, [commitish for _, commitish in refs])
        owner_repo = repo.relative_to(root).as_posix().removesuffix(".git")
        branches.extend(
            f"{owner_repo}:{ref}@{tree}" for (ref, _), tree in zip(refs, trees, strict=True)
        )
    return branches


def _rev_parse(repo: Path, commitishes: list[str]) -> list[str]:
    answer = subprocess.run(
        ["git", "rev-parse", *commitishes], cwd=repo, capture_output=True, text=True
    )
    lines = answer.stdout.split("\n")[: len(commitishes)]
    if answer.returncode == 0 and len(lines) == len(commitishes):
        return lines
    # Some ref names no tree (never for a branch): each one alone, as before.
    return [
        subprocess.run(
            ["git", "rev-parse", each], cwd=repo, capture_output=True, text=True
        ).stdout.strip()
        for each in commitishes
    ]


def platform_rows(database: Path) -> list[tuple[str, str, str]]:
    found = []
    with sqlite3.connect(database) as connection:
        connection.row_factory = sqlite3.Row
        for table in RESOURCE_TABLES:
            for row in connection.execute(f"SELECT * FROM {table}"):  # noqa: S608 (fixed names)
                fields = dict(row)
                if fields.get("status") in TOMBSTONES.get(table, ()):
                    continue
                key = ROW_KEYS[table](fields) if table in ROW_KEYS else _row_key(fields)
                found.append((f"platform.{table}", key, content(fields)))
    return found


def platform_files(directories: dict[str, Path]) -> list[tuple[str, str, str]]:
    """(kind, relative path, sha256 of the bytes) of every file under each of the platform's
    directories by kind (`hosting.workspaces`: a hosted service's source, Compose file, secrets and
    owner file; `hosting.uploads`: a ZIP a job has not extracted yet). A symbolic link counts as a
    file whose content is its target."""
    found = []
    for kind, root in directories.items():
        if not root.is_dir():
            continue
        for path in sorted(root.rglob("*")):
            if path.is_symlink():
                body = "-> " + str(path.readlink())
            elif path.is_file():
                body = hashlib.sha256(path.read_bytes()).hexdigest()
            else:
                continue
            found.append((kind, path.relative_to(root).as_posix(), body))
    return found


def _row_key(row: dict) -> str:
    for field in ("name", "prefix", "service_name", "vm_name"):
        if row.get(field):
            return str(row[field])
    return json.dumps(row, sort_keys=True, default=str)


async def database_objects(normalise: Normaliser) -> list[tuple[str, str]]:
    """Names only: a database's or a user's content is not looked at. Both servers at once."""
    mysql, postgres = await asyncio.gather(asyncio.to_thread(_mysql_objects), _postgres_objects())
    return [(kind, name) for kind, name in mysql + postgres if normalise.carries_token(name)]


def _mysql() -> pymysql.Connection:
    """A connection to the shared MariaDB on loopback, without TLS: pymysql otherwise builds a
    default SSL context (the system's CA store loaded: ~23 ms of CPU) for each connection, two or
    three per case, to try a TLS the local server does not offer."""
    return pymysql.connect(
        host="127.0.0.1", port=_port(MYSQL_URL, 3306), user="root", ssl_disabled=True
    )


def _mysql_objects() -> list[tuple[str, str]]:
    connection = _mysql()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SHOW DATABASES")
            databases = [("mysql.database", row[0]) for row in cursor.fetchall()]
            cursor.execute("SELECT CONCAT(user, '@', host) FROM mysql.user")
            users = [("mysql.user", row[0]) for row in cursor.fetchall()]
    finally:
        connection.close()
    return databases + users


async def _postgres_objects() -> list[tuple[str, str]]:
    connection = await asyncpg.connect(POSTGRES_URL)
    try:
        databases = await connection.fetch("SELECT datname FROM pg_database")
        roles = await connection.fetch("SELECT rolname FROM pg_roles")
    finally:
        await connection.close()
    return [("postgres.database", r[0]) for r in databases] + [
        ("postgres.role", r[0]) for r in roles
    ]


async def drop_database_objects(
    normalise: Normaliser, objects: list[tuple[str, str]] | None = None
) -> None:
    """Removes the case's databases and users from the shared servers (the rest of the case's
    world lives in the harness's own local cloud and data dir). `objects`: those names as a
    snapshot just read them (`Snapshot.database_objects`), else read again."""
    if objects is None:
        objects = await database_objects(normalise)
    mine = {kind: [name for k, name in objects if k == kind] for kind, _ in objects}
    if mine.get("mysql.database") or mine.get("mysql.user"):
        await asyncio.to_thread(
            _drop_mysql, mine.get("mysql.database", []), mine.get("mysql.user", [])
        )
    if mine.get("postgres.database") or mine.get("postgres.role"):
        connection = await asyncpg.connect(POSTGRES_URL)
        try:
            for name in mine.get("postgres.database", []):
                await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            for name in mine.get("postgres.role", []):
                await connection.execute(f'DROP ROLE IF EXISTS "{name}"')
        finally:
            await connection.close()


def _drop_mysql(databases: list[str], users: list[str]) -> None:
    connection = _mysql()
    try:
        with connection.cursor() as cursor:
            for name in databases:
                cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
            for user_at_host in users:
                user, host = user_at_host.rsplit("@", 1)
                cursor.execute("DROP USER IF EXISTS %s@%s", (user, host))
    finally:
        connection.close()


def _port(url: str, default: int) -> int:
    match = re.search(r":(\d+)/", url)
    return int(match.group(1)) if match else default


@dataclass
class Snapshot:
    """Every resource, counted by its real key, with its contents (one per resource of that key)."""

    keys: Counter
    contents: dict[str, list[str]]
    # The case's databases and users on the shared servers, (kind, name), as read.
    database_objects: list[tuple[str, str]] = dataclasses.field(default_factory=list)


@dataclass
class Changes:
    """What a case changed, normalised (as the catalogue keeps it), and by real key (for a
    scenario's own checks). `modified`: resources there before and after (as many of them) whose
    content differs; `fields` names what differs in each, for the verdict's message."""

    normalised: dict[str, list[str]]
    removed: list[str] = dataclasses.field(default_factory=list)
    modified: list[str] = dataclasses.field(default_factory=list)
    fields: dict[str, list[str]] = dataclasses.field(default_factory=dict)
    # The same paths as they are (`config.scsi0`, which `fields` shows as `config.<id>`), for
    # matching a scenario's `kept` fields.
    raw_fields: dict[str, list[str]] = dataclasses.field(default_factory=dict)


async def snapshot(
    cloud_dir: Path,
    database: Path,
    normalise: Normaliser,
    directories: dict[str, Path] | None = None,
) -> Snapshot:
    """Everything, counted, by its real key (a branch's tree is compared as it is). The parts are
    independent and read at once: the local cloud's files and git repositories, the platform's
    rows, its directories, the shared database servers."""
    cloud, rows, files, objects = await asyncio.gather(
        asyncio.to_thread(cloud_resources, cloud_dir),
        asyncio.to_thread(platform_rows, database),
        asyncio.to_thread(platform_files, directories or {}),
        database_objects(normalise),
    )
    raw = cloud + rows + files + [(kind, name, "") for kind, name in objects]
    keys: Counter = Counter()
    contents: dict[str, list[str]] = {}
    for kind, key, body in raw:
        keys[f"{kind} {key}"] += 1
        contents.setdefault(f"{kind} {key}", []).append(body)
    return Snapshot(keys, {key: sorted(bodies) for key, bodies in contents.items()}, objects)


def difference(before: Snapshot, after: Snapshot, normalise: Normaliser) -> Changes:
    """What appeared (or appeared more often), what disappeared and what changed in place,
    normalised so that two runs of one scenario compare."""
    modified = sorted(
        key
        for key, count in before.keys.items()
        if after.keys.get(key) == count and before.contents[key] != after.contents[key]
    )
    fields, raw_fields = {}, {}
    for key in modified:
        paths = []
        for old, new in zip(before.contents[key], after.contents[key], strict=True):
            paths.extend(path for path in changed_fields(old, new) if path not in paths)
        fields[normalise(key)] = [normalise(path) for path in paths]
        raw_fields[normalise(key)] = paths
    removed = list((before.keys - after.keys).elements())
    return Changes(
        {
            "left behind": sorted(normalise(key) for key in (after.keys - before.keys).elements()),
            "removed": sorted(normalise(key) for key in removed),
            "modified": sorted(normalise(key) for key in modified),
        },
        removed,
        modified,
        fields,
        raw_fields,
    )
