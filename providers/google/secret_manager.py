"""Secret Manager through the official client: the one place secret values are written and read.

Blocking calls (the REST transport has no async variant): the API calls them in a thread, activities
through `asyncio.to_thread`. Values are never logged, never returned in errors.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog
from google.api_core import exceptions as gexc
from google.cloud import secretmanager_v1

from core.settings import Settings, get_settings
from providers.google.clients import secret_manager_client

log = structlog.get_logger(__name__)

# Secret Manager's rule for secret ids.
SECRET_NAME_PATTERN = r"^[A-Za-z0-9_-]{1,255}$"
# The documented limit for one secret value (Secret Manager itself allows 64 KiB).
MAX_SECRET_BYTES = 64 * 1024
# The role that lets a principal read a secret's values.
ACCESSOR_ROLE = "roles/secretmanager.secretAccessor"


@dataclass(frozen=True)
class SecretMetadata:
    name: str
    labels: dict[str, str]
    created_at: datetime | None


@dataclass(frozen=True)
class SecretPage:
    secrets: list[SecretMetadata]
    next_page_token: str | None
    total: int


class SecretStore:
    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or get_settings()

    @property
    def client(self) -> secretmanager_v1.SecretManagerServiceClient:
        return secret_manager_client(self.settings)

    @property
    def parent(self) -> str:
        return f"projects/{self.settings.gcp_project}"

    def path(self, name: str) -> str:
        return f"{self.parent}/secrets/{name}"

    @staticmethod
    def _metadata(secret: secretmanager_v1.Secret) -> SecretMetadata:
        return SecretMetadata(
            name=secret.name.rsplit("/", 1)[-1],
            labels=dict(secret.labels),
            created_at=secret.create_time,
        )

    def create(self, name: str, value: str, labels: dict[str, str]) -> SecretMetadata:
        """Creates the secret with its first version. Raises google's Conflict (HTTP 409) when it exists;
        over REST the client maps 409 to Conflict, not its AlreadyExists subclass."""
        secret = self.client.create_secret(
            parent=self.parent,
            secret_id=name,
            secret=secretmanager_v1.Secret(
                replication=secretmanager_v1.Replication(
                    automatic=secretmanager_v1.Replication.Automatic()
                ),
                labels=labels,
            ),
            retry=None,
        )
        try:
            self.add_version(name, value)
        except Exception:
            # Leave nothing half-made: a secret without a version would block every retry.
            self._delete_quietly(name)
            raise
        return self._metadata(secret)

    def _delete_quietly(self, name: str) -> None:
        try:
            self.delete(name)
            log.info("secret creation rolled back: its first version failed", secret=name)
        except Exception as error:  # the caller gets the original failure; this one is logged
            log.warning(
                "secret left without a version; delete it by hand",
                secret=name,
                error_type=type(error).__name__,
            )

    def ensure(self, name: str, value: str, labels: dict[str, str]) -> bool:
        """Idempotent create for activities: an existing secret gets the value as a new version only
        when its latest value differs. True when the secret was created by this call."""
        try:
            self.create(name, value, labels)
            return True
        except gexc.Conflict:
            if self.access(name) != value:
                self.add_version(name, value)
            return False

    def add_version(self, name: str, value: str) -> None:
        self.client.add_secret_version(
            parent=self.path(name),
            payload=secretmanager_v1.SecretPayload(data=value.encode()),
            retry=None,
        )

    def has_value(self, name: str) -> bool:
        """Whether the secret's latest version can be read. A secret can be left without one: the
        process that created it died before storing its first value (create is two calls)."""
        try:
            self.access(name)
            return True
        except (gexc.NotFound, gexc.FailedPrecondition):
            return False

    def access(self, name: str, version: str = "latest") -> str:
        response = self.client.access_secret_version(
            name=f"{self.path(name)}/versions/{version}", retry=None
        )
        return response.payload.data.decode()

    def get(self, name: str) -> SecretMetadata | None:
        try:
            return self._metadata(self.client.get_secret(name=self.path(name), retry=None))
        except gexc.NotFound:
            return None

    def updated_at(self, meta: SecretMetadata) -> datetime | None:
        """When the latest version was added; the secret's creation time when it has no version."""
        try:
            version = self.client.get_secret_version(
                name=f"{self.path(meta.name)}/versions/latest", retry=None
            )
        except gexc.NotFound:
            return meta.created_at
        return version.create_time or meta.created_at

    def exists(self, name: str) -> bool:
        return self.get(name) is not None

    def list(self, label_filter: dict[str, str] | None = None) -> list[SecretMetadata]:
        request = self._list_request(label_filter)
        return [self._metadata(s) for s in self.client.list_secrets(request=request, retry=None)]

    def list_page(
        self, label_filter: dict[str, str] | None, page_size: int, page_token: str | None
    ) -> SecretPage:
        """One page of Secret Manager's own paging (its order, its opaque token) and the total.
        Secret Manager reports the total only for an unfiltered listing (0 with a filter), so a
        filtered total is counted by listing the matching names, big pages, no values."""
        request = self._list_request(label_filter)
        pager = self.client.list_secrets(
            request={**request, "page_size": page_size, "page_token": page_token or ""},
            retry=None,
        )
        response = next(iter(pager.pages))
        total = response.total_size
        if "filter" in request:
            counted = self.client.list_secrets(request={**request, "page_size": 25_000}, retry=None)
            total = sum(1 for _ in counted)
        return SecretPage(
            secrets=[self._metadata(s) for s in response.secrets],
            next_page_token=response.next_page_token or None,
            total=total,
        )

    def _list_request(self, label_filter: dict[str, str] | None) -> dict[str, Any]:
        query = " AND ".join(f"labels.{k}={v}" for k, v in (label_filter or {}).items())
        return {"parent": self.parent, "filter": query} if query else {"parent": self.parent}

    def delete(self, name: str) -> bool:
        """Deletes the secret and its versions; False when it did not exist."""
        try:
            self.client.delete_secret(name=self.path(name), retry=None)
            return True
        except gexc.NotFound:
            return False

    def grant_accessor(self, name: str, member: str) -> bool:
        """Lets `member` (e.g. `serviceAccount:x@p.iam.gserviceaccount.com`) read the secret's
        values: a read-modify-write of the secret's IAM policy, sent with the etag it read, so a
        concurrent change answers ABORTED (retried by the caller) instead of being overwritten.
        True when the binding was added, False when it was already there."""
        policy = self.client.get_iam_policy(request={"resource": self.path(name)}, retry=None)
        binding = next((b for b in policy.bindings if b.role == ACCESSOR_ROLE), None)
        if binding is not None and member in binding.members:
            return False
        if binding is None:
            policy.bindings.add(role=ACCESSOR_ROLE, members=[member])
        else:
            binding.members.append(member)
        self.client.set_iam_policy(
            request={"resource": self.path(name), "policy": policy}, retry=None
        )
        return True

    def accessors(self, name: str) -> list[str]:
        """The members granted ACCESSOR_ROLE on the secret itself."""
        policy = self.client.get_iam_policy(request={"resource": self.path(name)}, retry=None)
        return [m for b in policy.bindings if b.role == ACCESSOR_ROLE for m in b.members]

    def enabled_versions(self, name: str) -> list[str]:
        """The ids of the secret's enabled versions, newest first."""
        pager = self.client.list_secret_versions(
            request={"parent": self.path(name), "filter": "state:ENABLED"}, retry=None
        )
        return [v.name.rsplit("/", 1)[-1] for v in pager]

    def destroy_version(self, name: str, version: str) -> None:
        self.client.destroy_secret_version(name=f"{self.path(name)}/versions/{version}", retry=None)
