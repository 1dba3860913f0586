"""Names of the ops assistant that cross the Temporal boundary. Histories hold these values: never
change one without a patch."""

from __future__ import annotations

from datetime import timedelta

from contracts.timeouts import JobTimeouts


class Operations:
    ASSISTANT_TURN = "assistant_turn"


class Workflows:
    ASSISTANT_TURN = "AssistantTurn"


class TurnSteps:
    LOAD_HISTORY = "assistant.load_history"
    COMPLETE = "assistant.complete"
    RUN_TOOL = "assistant.run_tool"
    SAVE_MESSAGES = "assistant.save_messages"


# The subject kind of a turn: turns of one conversation take turns (one writer per conversation).
CONVERSATION_SUBJECT = "conversation"

TIMEOUTS = {Workflows.ASSISTANT_TURN: JobTimeouts(expected=timedelta(minutes=5))}
