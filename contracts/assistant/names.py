"""Names of the ops assistant that cross the Temporal boundary. Histories hold these values: never
change one without a patch."""

from __future__ import annotations

from datetime import timedelta

from contracts.timeouts import JobTimeouts


class Operations:
    ASSISTANT_TURN = "assistant_turn"
    # One tool run directly (`POST /api/tools/execute`), outside a chat turn.
    ASSISTANT_TOOL = "assistant_tool"
    LEARN_API = "learn_api"
    WEBHOOK_DELIVERY = "webhook_delivery"


class Workflows:
    ASSISTANT_TURN = "AssistantTurn"
    ASSISTANT_TOOL = "AssistantToolRun"
    LEARN_API = "LearnApi"
    # Not a job: the durable delivery of one event to one webhook (its attempts and backoff).
    WEBHOOK_DELIVERY = "WebhookDelivery"


class TurnSteps:
    LOAD_HISTORY = "assistant.load_history"
    COMPLETE = "assistant.complete"
    RUN_TOOL = "assistant.run_tool"
    SAVE_MESSAGES = "assistant.save_messages"
    # Reads the conversation and saves the user's message, one transaction (local activity).
    OPEN_TURN = "assistant.open_turn"
    # A failed or cancelled turn's undo of its answer's save.
    REMOVE_MESSAGES = "assistant.remove_messages"


class LearnSteps:
    LEARN = "assistant.learn_api"
    # A failed or cancelled LearnApi's undo: removes the rows its learning wrote.
    FORGET = "assistant.forget_learned_api"
    PUBLISH = "assistant.publish_event"


class WebhookSteps:
    ATTEMPT = "assistant.webhook_attempt"


# Workflow id prefix of a delivery; its id is the delivery id receivers see.
DELIVERY_PREFIX = f"{Operations.WEBHOOK_DELIVERY}-"


# A turn's events (thinking, tool_call, ...) past an id: the query the chat streams follow for a
# turn that does not write them into its history (started before EVENTS_IN_HISTORY_PATCH).
TURN_EVENTS_QUERY = "assistant_turn_events"
# The memo key under which a turn writes its events into its history as they happen (under
# EVENTS_IN_HISTORY_PATCH): each upsert carries the events new since the previous one (its first,
# in the turn's first workflow task, none: it tells a stream that the events come this way), so the
# history's WorkflowPropertiesModified events hold them all, in order; the memo keeps the last
# write while the turn runs and none once it has ended (the key is removed with its last events).
TURN_EVENTS_MEMO = "assistant_turn_events"
EVENTS_IN_HISTORY_PATCH = "assistant-events-in-history"
# The user's decision on a tool call waiting for approval (a Temporal update with a validator).
APPROVAL_UPDATE = "assistant_approval"
# The patch under which a turn gates its mutating tools by the autonomy level.
APPROVALS_PATCH = "assistant-approvals"
# The patch under which a turn runs its short steps as local activities: asking for and giving back
# its turn on the conversation, opening the turn (read the conversation, save the question) and
# publishing job.completed (the answer's save too, under LOCAL_SAVE_PATCH).
LOCAL_STEPS_PATCH = "assistant-local-steps"
# The patch under which the answer's save is a local activity too, its undo registered before the
# turn's first LLM call (so a replay that stops before the save still takes back an answer an
# attempt whose workflow task was never recorded wrote).
LOCAL_SAVE_PATCH = "assistant-local-answer-save"

# The subject kind of a turn: turns of one conversation take turns (one writer per conversation).
CONVERSATION_SUBJECT = "conversation"

TIMEOUTS = {
    Workflows.ASSISTANT_TURN: JobTimeouts(expected=timedelta(minutes=5)),
    Workflows.ASSISTANT_TOOL: JobTimeouts(expected=timedelta(minutes=2)),
    Workflows.LEARN_API: JobTimeouts(expected=timedelta(minutes=5)),
    # A delivery retries for up to a day (`webhook_retry_for_seconds`).
    Workflows.WEBHOOK_DELIVERY: JobTimeouts(
        expected=timedelta(hours=26), execution=timedelta(days=5)
    ),
}
