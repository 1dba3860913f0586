"""A worker killed between creating a secret and storing its first value (creating is two calls to
Secret Manager) leaves the secret without a version; the step's retry must give it its value, not
take the empty secret for its own finished work. The fault harness found it after a SIGKILL
during onboarding; here the half-made secret is made directly, so it happens every time."""

from __future__ import annotations

import asyncio
import uuid

from google.cloud import secretmanager_v1
from temporalio.testing import ActivityEnvironment

from activities.provisioning.customer_zenml import CustomerZenMLActivities
from activities.provisioning.customers import secret_labels
from contracts.provisioning.customers import CustomerNames, JobSecretsInput
from providers.google.secret_manager import SecretStore


def _half_made(store: SecretStore, name: str, labels: dict[str, str]) -> None:
    """What a killed attempt leaves: the secret, with its labels, and no version."""
    store.client.create_secret(
        parent=store.parent,
        secret_id=name,
        secret=secretmanager_v1.Secret(
            replication=secretmanager_v1.Replication(
                automatic=secretmanager_v1.Replication.Automatic()
            ),
            labels=labels,
        ),
        retry=None,
    )


async def test_a_zenml_secret_left_without_a_value_gets_one_on_the_retry(localcloud_settings):
    prefix = f"hm{uuid.uuid4().hex[:6]}"
    job_id = f"onboard_customer-{uuid.uuid4().hex[:12]}-zenml"
    store = SecretStore(localcloud_settings)
    names = CustomerNames(prefix)
    empty = names.zenml_encryption_key_secret
    await asyncio.to_thread(_half_made, store, empty, secret_labels(prefix, job_id))
    assert not await asyncio.to_thread(store.has_value, empty)

    activities = CustomerZenMLActivities(localcloud_settings)
    stored = await ActivityEnvironment().run(
        activities.store_secrets, JobSecretsInput(prefix=prefix, job_id=job_id)
    )
    try:
        assert empty in stored
        for name in stored:
            assert await asyncio.to_thread(store.has_value, name), name
        assert len(await asyncio.to_thread(store.access, empty)) >= 32
    finally:
        for name in names.zenml_secrets:
            await asyncio.to_thread(store.delete, name)
