"""Names of the provisioning system that cross the Temporal boundary: its workflow types and activity
types. The API starts workflows by these names, workflows call activities by them, and the activity
and workflow definitions register under them, so "go to definition" leads from one side to the other.
The values are what running and recorded histories hold: never change one without a patch."""

from __future__ import annotations

from datetime import timedelta

from contracts.timeouts import JobTimeouts


class Operations:
    """The `operation` of a job: its id prefix and what listings show."""

    DEPLOY = "deploy"
    UPDATE = "update"
    UNDEPLOY = "undeploy"
    CREATE_SERVICE_DATABASE = "create_service_database"
    SETUP_IMAGE_BUILD = "setup_image_build"
    ONBOARD_CUSTOMER = "onboard_customer"
    OFFBOARD_CUSTOMER = "offboard_customer"
    # The seed's names for the three provisionings of a customer (each a child job of onboarding).
    JIRA_PROVISION = "jira_provision"
    LITELLM_PROVISION = "litellm_provision"
    ZENML_PROVISION = "zenml_provision"
    DEPLOY_AGENT = "deploy_agent"
    RETIRE_AGENT = "retire_agent"
    RECONCILE = "reconcile"
    OBSERVE_DRIFT = "observe_drift"


class Workflows:
    DEPLOY_SERVICE = "DeployService"
    UNDEPLOY_SERVICE = "UndeployService"
    CREATE_SERVICE_DATABASE = "CreateServiceDatabase"
    SETUP_IMAGE_BUILD = "SetupImageBuild"
    ONBOARD_CUSTOMER = "OnboardCustomer"
    OFFBOARD_CUSTOMER = "OffboardCustomer"
    PROVISION_CUSTOMER_JIRA = "ProvisionCustomerJira"
    PROVISION_CUSTOMER_LITELLM = "ProvisionCustomerLiteLLM"
    PROVISION_CUSTOMER_ZENML = "ProvisionCustomerZenML"
    DEPLOY_AGENT = "DeployAgent"
    RETIRE_AGENT = "RetireAgent"
    RECONCILE_SERVICE = "ReconcileService"
    OBSERVE_DRIFT = "ObserveDrift"


# Per workflow type (see contracts/timeouts.py). A deploy is a Cloud Run apply (minutes) with a few
# quick calls around it; an image build waits up to two hours for its first build.
TIMEOUTS = {
    Workflows.DEPLOY_SERVICE: JobTimeouts(expected=timedelta(minutes=20)),
    Workflows.UNDEPLOY_SERVICE: JobTimeouts(expected=timedelta(minutes=15)),
    Workflows.CREATE_SERVICE_DATABASE: JobTimeouts(expected=timedelta(minutes=10)),
    Workflows.SETUP_IMAGE_BUILD: JobTimeouts(expected=timedelta(hours=2, minutes=30)),
    # An agent's deploy runs a DeployService child (20 min) after its key and prompt steps.
    Workflows.DEPLOY_AGENT: JobTimeouts(expected=timedelta(minutes=30)),
    Workflows.RETIRE_AGENT: JobTimeouts(expected=timedelta(minutes=15)),
    # Onboarding runs its three branches side by side; ZenML's (database, secrets, then a
    # DeployService child of up to 20 min) is the longest.
    Workflows.ONBOARD_CUSTOMER: JobTimeouts(expected=timedelta(minutes=40)),
    Workflows.PROVISION_CUSTOMER_JIRA: JobTimeouts(expected=timedelta(minutes=15)),
    Workflows.PROVISION_CUSTOMER_LITELLM: JobTimeouts(expected=timedelta(minutes=10)),
    Workflows.PROVISION_CUSTOMER_ZENML: JobTimeouts(expected=timedelta(minutes=35)),
    # Retires each agent (15 min each, one after another at worst), then the customer's objects.
    Workflows.OFFBOARD_CUSTOMER: JobTimeouts(expected=timedelta(minutes=45)),
    # One Cloud Run apply (a revision rolling out), like an update.
    Workflows.RECONCILE_SERVICE: JobTimeouts(expected=timedelta(minutes=15)),
    # One listing of Cloud Run and the registry; a period is minutes.
    Workflows.OBSERVE_DRIFT: JobTimeouts(expected=timedelta(minutes=5)),
}


class CloudRunSteps:
    GET_SERVICE = "cloud_run.get_service"
    APPLY_SERVICE = "cloud_run.apply_service"
    RESTORE_SERVICE = "cloud_run.restore_service"
    DELETE_SERVICE = "cloud_run.delete_service"
    GET_INVOKERS = "cloud_run.get_invokers"
    SET_INVOKERS = "cloud_run.set_invokers"
    RESTORE_INVOKERS = "cloud_run.restore_invokers"
    PLAN_HASH = "cloud_run.plan_hash"


class DriftSteps:
    OBSERVE_SERVICES = "drift.observe_services"
    OBSERVE_SERVICE = "drift.observe_service"
    REAPPLY_SERVICE = "drift.reapply_service"
    # The reconcile's read of the live service before it changes anything, and its undo.
    READ_LIVE = "drift.read_live"
    RESTORE_LIVE = "drift.restore_live"
    OBSERVE_VMS = "drift.observe_vms"
    OBSERVE_DOCKER_SERVICES = "drift.observe_docker_services"
    OBSERVE_RUNNERS = "drift.observe_runners"


# The drift observer's schedule (one per platform, `<id>-<task_queue>`).
DRIFT_SCHEDULE_ID = "drift-observer"


class RegistrySteps:
    UPSERT_SERVICE = "registry.upsert_service"
    REMOVE_SERVICE = "registry.remove_service"
    CUSTOMER_FOR_SERVICE = "registry.customer_for_service"


class ServiceDatabaseSteps:
    CHECK_PRECONDITIONS = "service_db.check_preconditions"
    STORE_PASSWORD = "service_db.store_password"
    CREATE_DATABASE = "service_db.create_database"
    CREATE_USER = "service_db.create_user"
    STORE_CONNECTION_STRING = "service_db.store_connection_string"
    DROP_DATABASE = "service_db.drop_database"
    DROP_USER = "service_db.drop_user"
    DELETE_JOB_SECRET = "service_db.delete_job_secret"


class ImageBuildSteps:
    CHECKOUT = "image_build.checkout"
    REMOVE_CHECKOUT = "image_build.remove_checkout"
    ENSURE_REGISTRY = "image_build.ensure_registry"
    DELETE_REGISTRY = "image_build.delete_registry"
    ENSURE_CONNECTION = "image_build.ensure_connection"
    DELETE_CONNECTION = "image_build.delete_connection"
    PUSH_BUILD_CONFIG = "image_build.push_build_config"
    REVERT_BUILD_CONFIG = "image_build.revert_build_config"
    ENSURE_TRIGGER = "image_build.ensure_trigger"
    DELETE_TRIGGER = "image_build.delete_trigger"
    RUN_FIRST_BUILD = "image_build.run_first_build"


class CustomerSteps:
    RECORD_BRANCH = "customer.record_branch"
    DELETE_RECORD = "customer.delete_record"
    LOAD = "customer.load"
    DEACTIVATE = "customer.deactivate"
    LIST_AGENTS = "customer.list_agents"
    DELETE_SECRETS = "customer.delete_secrets"
    # The customers' step of the cleanup after a force-cancel (contracts/job_cleanup.py).
    CLEANUP_AFTER_TERMINATE = "customer.cleanup_after_terminate"


class CustomerJiraSteps:
    CHECK_FREE = "customer_jira.check_free"
    CREATE_PROJECT = "customer_jira.create_project"
    CREATE_REQUEST_TYPES = "customer_jira.create_request_types"
    CREATE_ORGANIZATION = "customer_jira.create_organization"
    REMOVE = "customer_jira.remove"


class CustomerLiteLLMSteps:
    CREATE_USER = "customer_litellm.create_user"
    CREATE_KEY = "customer_litellm.create_key"
    REMOVE = "customer_litellm.remove"


class CustomerZenMLSteps:
    CHECK_FREE = "customer_zenml.check_free"
    STORE_SECRETS = "customer_zenml.store_secrets"
    CREATE_DATABASE = "customer_zenml.create_database"
    REMOVE_DATABASE = "customer_zenml.remove_database"
    DELETE_SECRETS = "customer_zenml.delete_secrets"
    # The account the server runs as, with read access to the four secrets (patch
    # "zenml-runtime-account" in ProvisionCustomerZenML and OffboardCustomer).
    CREATE_RUNTIME_ACCOUNT = "customer_zenml.create_runtime_account"
    DELETE_RUNTIME_ACCOUNT = "customer_zenml.delete_runtime_account"


class CleanupSteps:
    # Removes what a force-cancelled (terminated) job left: see contracts/job_cleanup.py.
    AFTER_TERMINATE = "provisioning.cleanup_after_terminate"


class AgentSteps:
    FIND_CUSTOMER = "agent.find_customer"
    CHECK_PROMPT = "agent.check_prompt"
    PROVISION_KEY = "agent.provision_key"
    REMOVE_JOB_KEY = "agent.remove_job_key"
    DESCRIBE = "agent.describe"
    DELETE_SECRET = "agent.delete_secret"
    DELETE_KEY = "agent.delete_key"
    # The agents' step of the cleanup after a force-cancel (contracts/job_cleanup.py).
    CLEANUP_AFTER_TERMINATE = "agent.cleanup_after_terminate"
