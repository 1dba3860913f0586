"""The emulator's state: one JSON document per API, guarded by one lock and saved atomically to disk."""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from localcloud import naming

log = logging.getLogger("localcloud.state")

# A settler finishes whatever became due (long-running operations) by `now`; see settle().
Settler = Callable[["LocalCloudState", float], None]


class LocalCloudState:
    """Shared by every emulated API through `request.app.state.localcloud`.

    Each API keeps its resources in a plain dict (`document(api)`) and calls `save(api)` after a
    mutation, always while holding `lock`; handlers never await while holding it. Without a
    data dir the state lives in memory only.
    """

    def __init__(
        self,
        data_dir: Path | None,
        lro_delay_seconds: float = 1.0,
        build_seconds: float = 2.0,
        proxmox_task_seconds: float = 1.0,
    ) -> None:
        # Absolute: git and other tools it runs work in their own directories.
        self.data_dir = Path(data_dir).resolve() if data_dir is not None else None
        self.lock = threading.RLock()
        # How long a long-running operation stays pending, and how long a Cloud Build build runs.
        self.config: dict[str, Any] = {
            "lro_delay_seconds": float(lro_delay_seconds),
            "build_seconds": float(build_seconds),
            # How long a GitHub Actions runner container "runs its one job" before it exits.
            "runner_job_seconds": 2.0,
            # How long a Docker container's health check reports `starting` before `healthy`.
            "docker_health_seconds": 0.5,
            # How long a Proxmox VE task (clone, start, resize…) runs before it stops.
            "proxmox_task_seconds": float(proxmox_task_seconds),
        }
        self._documents: dict[str, dict[str, Any]] = {}
        self._settlers: list[Settler] = []
        if self.data_dir is not None:
            self.data_dir.mkdir(parents=True, exist_ok=True)

    @property
    def lro_delay(self) -> float:
        return float(self.config["lro_delay_seconds"])

    def document(self, api: str) -> dict[str, Any]:
        with self.lock:
            if api not in self._documents:
                self._documents[api] = self._load(api)
            return self._documents[api]

    def save(self, api: str) -> None:
        if self.data_dir is None:
            return
        with self.lock:
            path = self._path(api)
            tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            tmp.write_text(json.dumps(self._documents.get(api, {}), separators=(",", ":")))
            # os.replace is atomic: a reader or a crash sees the old file or the new one, never half.
            os.replace(tmp, path)

    def add_settler(self, settler: Settler) -> None:
        self._settlers.append(settler)

    def settle(self, now: float | None = None) -> None:
        """Let every API finish the work that became due; run before each request is served."""
        now = naming.now() if now is None else now
        with self.lock:
            for settler in self._settlers:
                settler(self, now)

    def reset(self) -> None:
        with self.lock:
            apis = set(self._documents)
            if self.data_dir is not None:
                apis |= {p.stem for p in self.data_dir.glob("*.json")}
            self._documents = {api: {} for api in apis}
            if self.data_dir is not None:
                for api in apis:
                    self._path(api).unlink(missing_ok=True)

    def _path(self, api: str) -> Path:
        assert self.data_dir is not None
        return self.data_dir / f"{api}.json"

    def _load(self, api: str) -> dict[str, Any]:
        if self.data_dir is None or not self._path(api).exists():
            return {}
        path = self._path(api)
        try:
            return json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            # Keep the damaged file for inspection rather than crash or silently overwrite it.
            path.replace(path.with_suffix(".corrupt"))
            log.warning("state file %s unreadable (%s); starting %s empty", path, exc, api)
            return {}


def state_of(request: Any) -> LocalCloudState:
    """The state of the app serving this request (FastAPI `Request`)."""
    return request.app.state.localcloud
