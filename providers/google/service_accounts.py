"""IAM service accounts (IAM Admin API v1) through Google's official REST client.

`google-cloud-iam`'s `iam_admin_v1.IAMClient` ships only gRPC transports (checked on 2.27.0: its
transport registry has no "rest"), and the local cloud speaks HTTP/JSON. So this adapter uses the
discovery-based `google-api-python-client` (`iam` v1, its bundled discovery document, no network
fetch), which sends exactly the documented REST calls:

    POST   /v1/projects/{project}/serviceAccounts?alt=json  {"accountId", "serviceAccount": {...}}
    GET    /v1/projects/{project}/serviceAccounts/{email}?alt=json
    DELETE /v1/projects/{project}/serviceAccounts/{email}?alt=json

Service accounts carry no labels: a job marks the ones it makes by its id in the description
(`owner_description`), and reads ownership back with `ServiceAccount.made_by`.

Blocking calls (httplib2): activities run them through `call_google` (a thread). An httplib2 `Http`
is not thread-safe, so each thread builds its own client.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from typing import Any

import google.auth
import google_auth_httplib2
import grpc
import httplib2
from google.api_core import exceptions as gexc
from google.auth.credentials import AnonymousCredentials
from googleapiclient import discovery
from googleapiclient.errors import HttpError

from core.settings import Settings, get_settings

_SCOPES = ["https://www.googleapis.com/auth/cloud-platform"]
_TIMEOUT_SECONDS = 60
# IAM's rule for an account id (the part of the email before `@`).
ACCOUNT_ID_PATTERN = r"^[a-z](?:[-a-z0-9]{4,28}[a-z0-9])$"


def owner_description(job_id: str) -> str:
    """The description that marks an account as made by `job_id`: its only ownership mark."""
    return f"conneskills job {job_id}"


@dataclass(frozen=True)
class ServiceAccount:
    email: str
    name: str
    unique_id: str
    display_name: str
    description: str

    def made_by(self, job_id: str) -> bool:
        return self.description == owner_description(job_id)


def _api_error(error: HttpError) -> gexc.GoogleAPICallError:
    """The google.api_core exception the GAPIC clients would raise for this answer: by the
    google.rpc status of the body when there is one (409 ALREADY_EXISTS vs ABORTED), else by HTTP
    status, so `providers.google.errors` classifies it like every other Google call."""
    status, message = None, error.reason or str(error.status_code)
    try:
        body = json.loads(error.content)["error"]
        status, message = body.get("status"), body.get("message", message)
    except Exception:  # not a google.rpc.Status body
        pass
    if status in grpc.StatusCode.__members__:
        return gexc.from_grpc_status(grpc.StatusCode[status], message)
    return gexc.from_http_status(error.status_code, message)


def _execute(request: Any) -> dict[str, Any]:
    """One call, no client-side retry of answers (Temporal retries activities); errors as google's.

    A kept-alive connection the server has closed meanwhile (idle too long) fails the next request
    before it is answered. httplib2 sends a GET again on a fresh connection but not a POST, so the
    provider does, once: every call here is safe to repeat (a create adopts the account its own
    earlier attempt made, a delete of a gone account is False)."""
    for attempt in (1, 2):
        try:
            return request.execute(num_retries=0)
        except HttpError as error:
            raise _api_error(error) from None
        except TimeoutError:
            raise gexc.DeadlineExceeded("the IAM API did not answer (timed out)") from None
        except (OSError, httplib2.HttpLib2Error):
            if attempt == 2:
                raise gexc.ServiceUnavailable(
                    "the IAM API did not answer (connection failed)"
                ) from None
            request.http.close()  # the dropped connection: the next attempt opens a new one
    raise AssertionError("unreachable")


class ServiceAccounts:
    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or get_settings()
        self._local = threading.local()

    @property
    def project(self) -> str:
        return self.settings.gcp_project

    def email_for(self, account_id: str) -> str:
        return f"{account_id}@{self.project}.iam.gserviceaccount.com"

    def _name(self, email: str) -> str:
        return f"projects/{self.project}/serviceAccounts/{email}"

    @property
    def _accounts(self) -> Any:
        service = getattr(self._local, "service", None)
        if service is None:
            if self.settings.use_real_google_credentials:
                credentials, _ = google.auth.default(scopes=_SCOPES)
            else:
                credentials = AnonymousCredentials()
            http = google_auth_httplib2.AuthorizedHttp(
                credentials, http=httplib2.Http(timeout=_TIMEOUT_SECONDS)
            )
            service = discovery.build(
                "iam",
                "v1",
                http=http,
                static_discovery=True,
                cache_discovery=False,
                client_options={"api_endpoint": self.settings.endpoint_for("iam")},
            )
            self._local.service = service
        return service.projects().serviceAccounts()

    @staticmethod
    def _account(body: dict[str, Any]) -> ServiceAccount:
        return ServiceAccount(
            email=body["email"],
            name=body.get("name", ""),
            unique_id=body.get("uniqueId", ""),
            display_name=body.get("displayName", ""),
            description=body.get("description", ""),
        )

    def create(self, account_id: str, display_name: str, description: str) -> str:
        """Creates the account and returns its email. When the id is taken, returns the existing
        account's email only if its description is `description` (this job's earlier attempt);
        raises google's AlreadyExists (a final failure for a job) otherwise."""
        request = self._accounts.create(
            name=f"projects/{self.project}",
            body={
                "accountId": account_id,
                "serviceAccount": {"displayName": display_name, "description": description},
            },
        )
        try:
            return self._account(_execute(request)).email
        except gexc.AlreadyExists:
            pass
        found = self.get(self.email_for(account_id))
        if found is None or found.description != description:
            raise gexc.AlreadyExists(
                f"service account {self.email_for(account_id)} already exists"
            ) from None
        return found.email

    def get(self, email: str) -> ServiceAccount | None:
        try:
            return self._account(_execute(self._accounts.get(name=self._name(email))))
        except gexc.NotFound:
            return None

    def delete(self, email: str) -> bool:
        """Deletes the account; False when it did not exist."""
        try:
            _execute(self._accounts.delete(name=self._name(email)))
            return True
        except gexc.NotFound:
            return False
