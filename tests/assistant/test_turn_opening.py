"""A turn's opening (`assistant.open_turn`, a local activity) reads the conversation and saves the
user's message in one transaction; run again, as after a lost workflow task, it reads the same
history (not its own question) and writes nothing more."""

from __future__ import annotations

import uuid

from activities.assistant.turn import TurnActivities
from contracts.assistant.turn import HistoryRequest, SavedMessage, SaveRequest, TurnOpening
from store.assistant import conversations


def _opening(conversation_id: str, turn_id: str) -> TurnOpening:
    return TurnOpening(
        history=HistoryRequest(conversation_id=conversation_id, last=40),
        question=SaveRequest(
            conversation_id=conversation_id,
            turn_id=turn_id,
            messages=[SavedMessage(seq=0, role="user", content="and now?")],
        ),
    )


async def test_an_opening_run_twice_reads_the_same_and_saves_the_question_once(settings, db):
    conversation_id = f"c-{uuid.uuid4().hex[:12]}"
    async with db.transaction() as session:
        await conversations.create(session, conversation_id, "user:opening", "opening")
        earlier = [
            {"seq": 0, "role": "user", "content": "first question"},
            {"seq": 1, "role": "assistant", "content": "first answer"},
        ]
        await conversations.append(session, conversation_id, "turn-earlier", earlier)
    turn = TurnActivities(settings, db)
    opening = _opening(conversation_id, f"turn-{uuid.uuid4().hex[:8]}")

    first = await turn.open_turn(opening)
    again = await turn.open_turn(opening)

    assert first == again
    assert first.found
    assert [(m.role, m.content) for m in first.messages] == [
        ("user", "first question"),
        ("assistant", "first answer"),
    ]
    async with db.transaction() as session:
        stored = await conversations.messages(session, conversation_id)
    assert [(m.role, m.content) for m in stored] == [
        ("user", "first question"),
        ("assistant", "first answer"),
        ("user", "and now?"),
    ]


async def test_an_opening_of_a_deleted_conversation_writes_nothing(settings, db):
    conversation_id = f"c-{uuid.uuid4().hex[:12]}"
    opened = await TurnActivities(settings, db).open_turn(_opening(conversation_id, "turn-gone"))
    assert not opened.found
    async with db.transaction() as session:
        assert await conversations.messages(session, conversation_id) == []
