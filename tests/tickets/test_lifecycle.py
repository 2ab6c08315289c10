"""The status machine, pair by pair (pure: no database)."""

import datetime
import itertools
from types import SimpleNamespace

import pytest

from tickets.lifecycle import (
    TRANSITIONS,
    ActorKind,
    Status,
    TransitionError,
    allowed_transitions,
    can_transition,
    check_transition,
)

NOW = datetime.datetime(2026, 3, 1, 12, 0, tzinfo=datetime.UTC)
C, A, S = ActorKind.CUSTOMER, ActorKind.AGENT, ActorKind.SYSTEM

# Written out independently of TRANSITIONS: (from, to) -> who may, outside merges.
EXPECTED = {
    ("new", "open"): {A, S},
    ("new", "waiting"): {A},
    ("new", "solved"): {C, A},
    ("open", "waiting"): {A},
    ("open", "solved"): {C, A},
    ("waiting", "open"): {C, A, S},
    ("waiting", "solved"): {C, A, S},
    ("solved", "open"): {C, A},
    ("solved", "closed"): {A, S},
}
MERGE_ONLY = {("new", "closed"), ("open", "closed"), ("waiting", "closed")}


def ticket(status, solved_days_ago=1):
    solved_at = NOW - datetime.timedelta(days=solved_days_ago) if status == "solved" else None
    return SimpleNamespace(status=status, solved_at=solved_at)


ALL_TRIPLES = list(itertools.product(Status.values, Status.values, ActorKind.values))


@pytest.mark.parametrize(("from_status", "to_status", "actor"), ALL_TRIPLES)
def test_every_transition_is_allowed_exactly_as_the_table_says(from_status, to_status, actor):
    """Each (from, to, actor) triple: allowed iff listed, else refused with TransitionError."""
    expected = actor in EXPECTED.get((from_status, to_status), set())
    assert can_transition(ticket(from_status), to_status, actor, NOW) is expected
    if not expected:
        with pytest.raises(TransitionError):
            check_transition(ticket(from_status), to_status, actor, NOW)


@pytest.mark.parametrize(("from_status", "to_status", "actor"), ALL_TRIPLES)
def test_merges_close_unsolved_requests_and_nothing_else_changes(from_status, to_status, actor):
    """With via_merge only the system gains new → closed, open → closed and waiting → closed."""
    expected = actor in EXPECTED.get((from_status, to_status), set()) or (
        (from_status, to_status) in MERGE_ONLY and actor == S
    )
    assert can_transition(ticket(from_status), to_status, actor, NOW, via_merge=True) is expected


def test_table_lists_exactly_the_expected_pairs():
    assert set(TRANSITIONS) == set(EXPECTED) | MERGE_ONLY


def test_a_closed_request_cannot_be_changed():
    with pytest.raises(TransitionError, match="A closed request cannot be changed."):
        check_transition(ticket("closed"), "open", A, NOW)


def test_closing_an_open_request_outside_a_merge_says_why():
    with pytest.raises(TransitionError, match="only be closed by merging"):
        check_transition(ticket("open"), "closed", S, NOW)


def test_moving_to_the_same_status_is_refused():
    with pytest.raises(TransitionError, match="already"):
        check_transition(ticket("open"), "open", A, NOW)


def test_customer_may_reopen_up_to_the_last_instant_of_the_window():
    solved = SimpleNamespace(status="solved", solved_at=NOW - datetime.timedelta(days=7))
    check_transition(solved, "open", C, NOW)


def test_customer_cannot_reopen_a_microsecond_after_the_window():
    solved = SimpleNamespace(
        status="solved", solved_at=NOW - datetime.timedelta(days=7, microseconds=1)
    )
    with pytest.raises(TransitionError, match="more than 7 days ago") as caught:
        check_transition(solved, "open", C, NOW)
    assert caught.value.code == "reopen_window"


def test_agents_may_reopen_at_any_time():
    solved = SimpleNamespace(status="solved", solved_at=NOW - datetime.timedelta(days=400))
    check_transition(solved, "open", A, NOW)


def test_the_window_comes_from_settings(settings):
    settings.TICKET_REOPEN_WINDOW_DAYS = 1
    assert not can_transition(ticket("solved", solved_days_ago=2), "open", C, NOW)
    assert can_transition(ticket("solved", solved_days_ago=1), "open", C, NOW)


def test_allowed_transitions_offers_only_legal_next_states():
    assert allowed_transitions(ticket("new"), A, NOW) == ["open", "waiting", "solved"]
    assert allowed_transitions(ticket("waiting"), C, NOW) == ["open", "solved"]
    assert allowed_transitions(ticket("solved", solved_days_ago=8), C, NOW) == []
    assert allowed_transitions(ticket("solved"), A, NOW) == ["open", "closed"]
    assert allowed_transitions(ticket("closed"), S, NOW) == []
