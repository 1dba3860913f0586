"""The provisioning system's activities (seed 000), collected by `worker.py`."""

from __future__ import annotations

from collections.abc import Callable

from activities.alert_events import AlertEvents
from activities.provisioning.agents import AgentActivities
from activities.provisioning.cloud_run import CloudRunActivities
from activities.provisioning.customer_cleanup import CustomerCleanupActivities
from activities.provisioning.customer_jira import CustomerJiraActivities
from activities.provisioning.customer_litellm import CustomerLiteLLMActivities
from activities.provisioning.customer_zenml import CustomerZenMLActivities
from activities.provisioning.customers import CustomerActivities
from activities.provisioning.drift import DriftActivities
from activities.provisioning.drift_docker import DockerDriftActivities
from activities.provisioning.drift_runners import RunnerDriftActivities
from activities.provisioning.drift_vms import VmDriftActivities
from activities.provisioning.image_builds import ImageBuildActivities
from activities.provisioning.job_cleanup import JobCleanupActivities
from activities.provisioning.service_databases import ServiceDatabaseActivities
from activities.provisioning.service_registry import RegistryActivities
from core.settings import Settings
from store.db import Database


def activities(settings: Settings, db: Database) -> list[Callable]:
    cloud_run = CloudRunActivities(settings)
    registry = RegistryActivities(db)
    service_db = ServiceDatabaseActivities(settings, db)
    image_builds = ImageBuildActivities(settings)
    customer = CustomerActivities(settings, db)
    jira = CustomerJiraActivities(settings)
    litellm = CustomerLiteLLMActivities(settings, db)
    zenml = CustomerZenMLActivities(settings)
    customer_cleanup = CustomerCleanupActivities(settings, db)
    job_cleanup = JobCleanupActivities(settings)
    agents = AgentActivities(settings, db)
    # Every drift activity announces the alerts it raises through one publisher (one lazy client).
    alert_events = AlertEvents(settings, db)
    drift = DriftActivities(settings, db, alert_events)
    return [
        *drift.all(),
        *VmDriftActivities(settings, db, alert_events).all(),
        *DockerDriftActivities(settings, db, alert_events).all(),
        *RunnerDriftActivities(settings, db, alert_events).all(),
        cloud_run.get_service,
        cloud_run.apply_service,
        cloud_run.restore_service,
        cloud_run.delete_service,
        cloud_run.get_invokers,
        cloud_run.set_invokers,
        cloud_run.restore_invokers,
        cloud_run.plan_hash,
        registry.upsert_service,
        registry.remove_service,
        registry.customer_for_service,
        service_db.check_preconditions,
        service_db.store_password,
        service_db.create_database,
        service_db.create_user,
        service_db.store_connection_string,
        service_db.drop_database,
        service_db.drop_user,
        service_db.delete_job_secret,
        image_builds.checkout,
        image_builds.remove_checkout,
        image_builds.ensure_registry,
        image_builds.delete_registry,
        image_builds.ensure_connection,
        image_builds.delete_connection,
        image_builds.push_build_config,
        image_builds.revert_build_config,
        image_builds.ensure_trigger,
        image_builds.delete_trigger,
        image_builds.run_first_build,
        customer.record_branch,
        customer.delete_record,
        customer.load,
        customer.deactivate,
        customer.list_agents,
        customer.delete_secrets,
        jira.check_free,
        jira.create_project,
        jira.create_request_types,
        jira.create_organization,
        jira.remove,
        litellm.create_user,
        litellm.create_key,
        litellm.remove,
        zenml.check_free,
        zenml.store_secrets,
        zenml.create_database,
        zenml.remove_database,
        zenml.delete_secrets,
        zenml.create_runtime_account,
        zenml.delete_runtime_account,
        customer_cleanup.cleanup_after_terminate,
        job_cleanup.cleanup_after_terminate,
        agents.find_customer,
        agents.check_prompt,
        agents.provision_key,
        agents.remove_job_key,
        agents.describe,
        agents.delete_secret,
        agents.delete_key,
        agents.cleanup_after_terminate,
    ]
