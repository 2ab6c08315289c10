"""SLA: the policy that applies to a request, its deadlines, and the sweep that acts on them.

Deadlines are columns on the request (`Ticket.*_due_at`, `sla_due_at`,
`sla_warn_at`), kept current by `tickets.services` in the same UPDATE as the
change that moves them; a beat task (`sla_sweep`, every minute) finds the
requests whose warning point or deadline has passed with indexed queries and
records each crossing once (`SlaMilestone`), with an internal event and emails
to the assignee and the team's supervisors. See docs/sla.md.

The rules, where they are not obvious:

- **Which policy.** The first active policy by position whose non-empty
  conditions (priority, category, team) all match. It is chosen when the
  request is opened and chosen again only when someone changes the
  request's priority, category or team. Escalation by the sweep keeps the
  policy: re-choosing on a raised priority would apply a tighter target
  measured from the same start, which is breached already, and escalate
  again.
- **Clocks run only while the request is new or open.** Waiting on the
  customer, solved and closed stop every clock; a reopened request resumes
  where it stopped. A deadline missed before the clock stopped stays (a
  breach is not hidden by putting the request on hold); otherwise a stopped
  deadline is None, so the sweep and the inbox ignore it.
- **Targets.** First response runs from creation to the first public agent
  reply. Next response runs, after the first response, from the first
  customer message that no agent reply has answered yet (later messages from
  the customer do not move it). Resolution runs from creation until solved.
- **Deadlines depend only on the request's history** (its timestamps and
  status events), never on the time of the computation: recomputing gives the
  same values, whenever it runs.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, F, Min, OuterRef, Q, QuerySet

from accounts.models import User
from tickets import notifications
from tickets.lifecycle import ACTIVE_STATUSES, Status
from tickets.models import (
    EventKind,
    Message,
    NotificationKind,
    Priority,
    SlaCalendar,
    SlaHoliday,
    SlaMilestone,
    SlaPolicy,
    SlaStage,
    SlaTarget,
    TeamMembership,
    Ticket,
    TicketEvent,
)
from tickets.sla_calendar import (
    BusinessCalendar,
    Pause,
    deadline_with_pauses,
    elapsed_with_pauses,
)

# The statuses in which SLA clocks run; every other status stops them.
RUNNING_STATUSES: frozenset[str] = frozenset({Status.NEW, Status.OPEN})
# The events that record a status change, with old and new status as values.
STATUS_EVENT_KINDS: frozenset[str] = frozenset({EventKind.STATUS, EventKind.REOPENED})
# Request columns whose change can move a deadline: the services recompute only then.
SLA_INPUTS: frozenset[str] = frozenset(
    {
        "status",
        "priority",
        "category",
        "team",
        "first_response_at",
        "last_customer_reply_at",
        "last_agent_reply_at",
    }
)
# Changes that choose the policy again: the request's conditions changed.
POLICY_INPUTS: frozenset[str] = frozenset({"priority", "category", "team"})
# Every column `sla_fields` computes.
SLA_COLUMNS: tuple[str, ...] = (
    "sla_policy",
    "first_response_due_at",
    "next_response_due_at",
    "resolution_due_at",
    "sla_due_at",
    "sla_warn_at",
    "first_response_seconds",
    "resolution_seconds",
)
# Each target's deadline column, in the order that breaks ties between equal deadlines.
TARGET_COLUMNS: dict[str, str] = {
    SlaTarget.FIRST_RESPONSE: "first_response_due_at",
    SlaTarget.NEXT_RESPONSE: "next_response_due_at",
    SlaTarget.RESOLUTION: "resolution_due_at",
}
_TARGET_MINUTES = {
    SlaTarget.FIRST_RESPONSE: "first_response_minutes",
    SlaTarget.NEXT_RESPONSE: "next_response_minutes",
    SlaTarget.RESOLUTION: "resolution_minutes",
}


# Policies and calendars ----------------------------------------------------------------


def active_policies() -> list[SlaPolicy]:
    """Active policies in the order they are tried, with their calendars (one query)."""
    return list(
        SlaPolicy.objects.filter(is_active=True)
        .select_related("calendar")
        .order_by("position", "pk")
    )


def policy_matches(
    policy: SlaPolicy, *, priority: int, category_id: int | None, team_id: int | None
) -> bool:
    """Whether every condition `policy` sets (priority, category, team) holds."""
    return (
        (policy.priority is None or policy.priority == priority)
        and (policy.category_id is None or policy.category_id == category_id)
        and (policy.team_id is None or policy.team_id == team_id)
    )


def policy_for(ticket: Any, policies: Iterable[SlaPolicy] | None = None) -> SlaPolicy | None:
    """The first of `policies` (default: the active ones, in order) that matches `ticket`.

    `ticket` needs `priority`, `category_id` and `team_id`: a `Ticket`, saved
    or not.
    """
    for policy in active_policies() if policies is None else policies:
        if policy_matches(
            policy,
            priority=ticket.priority,
            category_id=ticket.category_id,
            team_id=ticket.team_id,
        ):
            return policy
    return None


def policy_for_priority(priority: int) -> SlaPolicy | None:
    """The first active policy for a bare priority, conditioned on nothing else.

    For promises made before there is a request. A priority that does not
    exist is read as normal: the promise is shown to customers and must not
    break a page.
    """
    if priority not in Priority.values:
        priority = Priority.NORMAL
    for policy in active_policies():
        unconditional = policy.category_id is None and policy.team_id is None
        if unconditional and policy.priority in (None, priority):
            return policy
    return None


def business_calendar(calendar: SlaCalendar | None) -> BusinessCalendar:
    """The working time of `calendar` with its holidays; round the clock for None.

    Raises ValueError for hours that do not make a calendar (the admin
    refuses to save those).
    """
    if calendar is None:
        return BusinessCalendar.always()
    holidays = SlaHoliday.objects.filter(calendar=calendar).values_list("date", flat=True)
    return BusinessCalendar.from_spec(
        {
            "time_zone": calendar.time_zone,
            "weekly": calendar.weekly,
            "holidays": [day.isoformat() for day in holidays],
        }
    )


# What the deadlines are computed from ---------------------------------------------------


@dataclass(frozen=True)
class _Request:
    """The columns of a request that its deadlines depend on, possibly with unsaved changes."""

    pk: int | None
    created_at: datetime.datetime
    status: str
    status_changed_at: datetime.datetime
    priority: int
    category_id: int | None
    team_id: int | None
    sla_policy_id: int | None
    first_response_at: datetime.datetime | None
    last_customer_reply_at: datetime.datetime | None
    last_agent_reply_at: datetime.datetime | None
    solved_at: datetime.datetime | None

    @classmethod
    def of(cls, ticket: Ticket, changes: Mapping[str, Any] | None = None) -> _Request:
        values = {field.name: getattr(ticket, field.name) for field in dataclasses.fields(cls)}
        for name, value in (changes or {}).items():
            if name in ("category", "team", "sla_policy"):
                values[f"{name}_id"] = value.pk if value is not None else None
            elif name in values:
                values[name] = value
        return cls(**values)

    @property
    def awaits_next_response(self) -> bool:
        """Whether a customer message after the first response has no agent reply yet."""
        answered = self.last_agent_reply_at or self.first_response_at
        return (
            self.first_response_at is not None
            and self.last_customer_reply_at is not None
            and answered is not None
            and self.last_customer_reply_at > answered
        )


Transition = tuple[str, str, datetime.datetime]


def status_pauses(
    transitions: Iterable[Transition],
    *,
    status: str,
    status_changed_at: datetime.datetime,
) -> list[Pause]:
    """The periods the request's clocks stood still, from its status changes in time order.

    A pause begins when the request leaves new/open and ends when it comes
    back; the last one has no end while the request is still paused. The
    request's own `status` has the last word when the history is incomplete
    (a request older than its events): it then pauses or resumes at
    `status_changed_at`.
    """
    pauses: list[Pause] = []
    paused_since: datetime.datetime | None = None
    for old, new, at in transitions:
        if old in RUNNING_STATUSES and new not in RUNNING_STATUSES and paused_since is None:
            paused_since = at
        elif new in RUNNING_STATUSES and paused_since is not None:
            pauses.append((paused_since, at))
            paused_since = None
    if status in RUNNING_STATUSES and paused_since is not None:
        pauses.append((paused_since, max(paused_since, status_changed_at)))
        paused_since = None
    elif status not in RUNNING_STATUSES and paused_since is None:
        paused_since = status_changed_at
    if paused_since is not None:
        pauses.append((paused_since, None))
    return pauses


def _history(ticket_ids: Sequence[int]) -> dict[int, list[Transition]]:
    """The status changes of `ticket_ids`, in time order (one query)."""
    found: dict[int, list[Transition]] = defaultdict(list)
    rows = (
        TicketEvent.objects.filter(ticket_id__in=ticket_ids, kind__in=STATUS_EVENT_KINDS)
        .order_by("created_at", "pk")
        .values_list("ticket_id", "old_value", "new_value", "created_at")
    )
    for ticket_id, old, new, at in rows:
        found[ticket_id].append((old, new, at))
    return found


def _next_response_starts(requests: Sequence[_Request]) -> dict[int, datetime.datetime]:
    """When each request began waiting for the next response: its first unanswered message.

    Any public message after the last agent reply is the customer's (an agent's
    public reply moves `last_agent_reply_at`). One query for all of them.
    """
    waiting = [r for r in requests if r.pk is not None and r.awaits_next_response]
    if not waiting:
        return {}
    rows = (
        Message.objects.filter(
            ticket_id__in=[r.pk for r in waiting],
            is_internal=False,
            created_at__gt=F("ticket__last_agent_reply_at"),
        )
        .values("ticket_id")
        .annotate(start=Min("created_at"))
        .values_list("ticket_id", "start")
        .order_by()
    )
    return dict(rows)


# The computation (pure) ------------------------------------------------------------------


def _seconds(duration: datetime.timedelta) -> int:
    return int(duration.total_seconds())


def _clock(
    calendar: BusinessCalendar,
    start: datetime.datetime,
    minutes: int,
    warn_at_percent: int,
    pauses: Sequence[Pause],
) -> tuple[datetime.datetime, datetime.datetime] | None:
    """(deadline, warning point) of a target of `minutes` started at `start`; None if stopped."""
    target = datetime.timedelta(minutes=minutes)
    due = deadline_with_pauses(calendar, start, target, pauses)
    if due is None:
        return None
    percent = min(max(warn_at_percent, 0), 100)
    warn = deadline_with_pauses(calendar, start, target * percent / 100, pauses)
    # Not None: the warning comes before the deadline, so its clock ran at least as long.
    assert warn is not None  # noqa: S101
    return due, warn


def compute(
    request: _Request,
    *,
    policy: SlaPolicy | None,
    calendar: BusinessCalendar,
    pauses: Sequence[Pause],
    next_response_start: datetime.datetime | None,
) -> dict[str, Any]:
    """Every SLA column of `request` under `policy` (None: no targets, 7×24 for the figures)."""
    fields: dict[str, Any] = dict.fromkeys(SLA_COLUMNS)
    fields["sla_policy"] = policy
    tracked = request.status in ACTIVE_STATUSES and policy is not None
    clocks: dict[str, tuple[datetime.datetime, datetime.datetime]] = {}

    def track(target: str, start: datetime.datetime | None) -> None:
        minutes = getattr(policy, _TARGET_MINUTES[target])
        if start is None or minutes is None:
            return
        clock = _clock(calendar, start, minutes, policy.warn_at_percent, pauses)
        if clock is not None:
            clocks[target] = clock

    if request.first_response_at is not None:
        fields["first_response_seconds"] = _seconds(
            elapsed_with_pauses(calendar, request.created_at, request.first_response_at, pauses)
        )
    elif tracked:
        track(SlaTarget.FIRST_RESPONSE, request.created_at)
    if tracked and request.awaits_next_response:
        track(SlaTarget.NEXT_RESPONSE, next_response_start or request.last_customer_reply_at)
    if tracked:
        track(SlaTarget.RESOLUTION, request.created_at)
    elif request.status not in ACTIVE_STATUSES and request.solved_at is not None:
        fields["resolution_seconds"] = _seconds(
            elapsed_with_pauses(calendar, request.created_at, request.solved_at, pauses)
        )

    for target, (due, _warn) in clocks.items():
        fields[TARGET_COLUMNS[target]] = due
    if clocks:
        # min() keeps the first of equal deadlines: the order of TARGET_COLUMNS.
        earliest = min(clocks, key=lambda target: clocks[target][0])
        fields["sla_due_at"], fields["sla_warn_at"] = clocks[earliest]
    return fields


# Loading, computing, storing ---------------------------------------------------------------


def _policy_of(
    ticket: Ticket, request: _Request, *, rematch: bool, policies: list[SlaPolicy] | None
) -> SlaPolicy | None:
    """The request's own policy while it is active; the first match when asked or when none."""
    if not rematch and request.sla_policy_id is not None:
        if policies is not None:
            kept = next((p for p in policies if p.pk == request.sla_policy_id), None)
        else:
            # select_related by the services' read of the request (`_current`).
            kept = ticket.sla_policy
        if kept is not None and kept.is_active:
            return kept
    return policy_for(request, policies)


def _fields(
    ticket: Ticket,
    request: _Request,
    *,
    rematch: bool,
    transitions: Sequence[Transition] | None,
    next_response_start: datetime.datetime | None,
    policies: list[SlaPolicy] | None = None,
    calendars: dict[int | None, BusinessCalendar] | None = None,
) -> dict[str, Any]:
    policy = _policy_of(ticket, request, rematch=rematch, policies=policies)
    calendar_id = policy.calendar_id if policy is not None else None
    if calendars is not None and calendar_id in calendars:
        calendar = calendars[calendar_id]
    else:
        calendar = business_calendar(policy.calendar if policy is not None else None)
        if calendars is not None:
            calendars[calendar_id] = calendar
    pauses = status_pauses(
        transitions or (), status=request.status, status_changed_at=request.status_changed_at
    )
    return compute(
        request,
        policy=policy,
        calendar=calendar,
        pauses=pauses,
        next_response_start=next_response_start,
    )


def _has_status_history(ticket: Ticket) -> bool:
    # Opening sets both to the same instant and every status change moves
    # `status_changed_at`: when they are equal there is no history to read.
    return ticket.pk is not None and ticket.status_changed_at != ticket.created_at


def sla_fields(ticket: Ticket, *, rematch: bool = False) -> dict[str, Any]:
    """Compute every SLA column for `ticket` as it is in memory; nothing is saved.

    `rematch` chooses the policy again (see the module docstring); a request
    without an active policy always gets the first match. Up to four queries:
    policies (when matching), holidays (business-hours calendars), status
    history and the start of the next-response clock (only when they matter).
    """
    request = _Request.of(ticket)
    transitions = _history([ticket.pk]).get(ticket.pk, []) if _has_status_history(ticket) else []
    starts = _next_response_starts([request])
    return _fields(
        ticket,
        request,
        rematch=rematch,
        transitions=transitions,
        next_response_start=starts.get(ticket.pk),
    )


def _differences(ticket: Ticket, fields: Mapping[str, Any]) -> dict[str, Any]:
    changed = {}
    for name, value in fields.items():
        if name == "sla_policy":
            if ticket.sla_policy_id != (value.pk if value is not None else None):
                changed[name] = value
        elif getattr(ticket, name) != value:
            changed[name] = value
    return changed


def sla_changes(
    current: Ticket,
    changes: Mapping[str, Any],
    events: Sequence[TicketEvent],
    *,
    keep_policy: bool = False,
) -> dict[str, Any]:
    """The SLA columns that `changes` move on `current`, for the UPDATE that applies them.

    For `tickets.services._write`: `current` is the row as read in the
    transaction, `changes` and `events` what the write is about to save.
    Empty when nothing that deadlines depend on changes. A change of
    priority, category or team chooses the policy again unless
    `keep_policy` (the sweep's escalation).
    """
    if not SLA_INPUTS & changes.keys():
        return {}
    request = _Request.of(current, changes)
    transitions = _history([current.pk]).get(current.pk, []) if _has_status_history(current) else []
    transitions += [
        (event.old_value, event.new_value, event.created_at)
        for event in events
        if event.kind in STATUS_EVENT_KINDS
    ]
    before = _Request.of(current)
    if request.awaits_next_response and not before.awaits_next_response:
        # This very write is the customer message that starts the clock.
        next_response_start = request.last_customer_reply_at
    else:
        next_response_start = _next_response_starts([request]).get(current.pk)
    fields = _fields(
        current,
        request,
        rematch=not keep_policy and bool(POLICY_INPUTS & changes.keys()),
        transitions=transitions,
        next_response_start=next_response_start,
    )
    return _differences(current, fields)


def sla_refresh(ticket: Ticket, *, rematch: bool = False) -> bool:
    """Recompute `ticket`'s SLA columns and store those that changed; False if none did.

    The UPDATE is conditional on the version the caller read and does not
    bump it: deadlines are derived data, and recomputing them must not make
    an agent's open page stale. A request changed meanwhile is left alone
    (returns False): the service that changed it recomputed it. The services
    do not call this (they fold the columns into their own UPDATE through
    `sla_changes`); recomputation after a policy change does.
    """
    changed = _differences(ticket, sla_fields(ticket, rematch=rematch))
    if not changed:
        return False
    updated = Ticket.objects.filter(pk=ticket.pk, version=ticket.version).update(**changed)
    if updated:
        for name, value in changed.items():
            setattr(ticket, name, value)
    return bool(updated)


def sla_recompute(*, policy_ids: Sequence[int] | None = None, batch_size: int | None = None) -> int:
    """Recompute active requests' deadlines, choosing their policy again; return how many moved.

    For after an admin changed policies or calendars (old deadlines otherwise
    stay until the request's next event). `policy_ids` limits it to the
    requests under those policies, plus those without one. Works through the
    requests in batches of `batch_size`, each in its own transaction, with
    the history of a whole batch read at once. The same conditional,
    version-keeping UPDATE as `sla_refresh`.
    """
    batch_size = batch_size or settings.SLA_SWEEP_BATCH_SIZE
    tickets = Ticket.objects.filter(status__in=ACTIVE_STATUSES)
    if policy_ids is not None:
        tickets = tickets.filter(Q(sla_policy__in=policy_ids) | Q(sla_policy__isnull=True))
    moved = 0
    last_pk = 0
    policies = active_policies()
    calendars: dict[int | None, BusinessCalendar] = {}
    while True:
        with transaction.atomic():
            batch = list(tickets.filter(pk__gt=last_pk).order_by("pk")[:batch_size])
            if not batch:
                return moved
            last_pk = batch[-1].pk
            requests = [_Request.of(ticket) for ticket in batch]
            history = _history([t.pk for t in batch if _has_status_history(t)])
            starts = _next_response_starts(requests)
            for ticket, request in zip(batch, requests, strict=True):
                fields = _fields(
                    ticket,
                    request,
                    rematch=True,
                    transitions=history.get(ticket.pk, []),
                    next_response_start=starts.get(ticket.pk),
                    policies=policies,
                    calendars=calendars,
                )
                changed = _differences(ticket, fields)
                if changed and Ticket.objects.filter(pk=ticket.pk, version=ticket.version).update(
                    **changed
                ):
                    moved += 1


# The sweep ---------------------------------------------------------------------------------

_EVENT_KINDS = {SlaStage.WARNING: EventKind.SLA_WARNING, SlaStage.BREACH: EventKind.SLA_BREACH}
_NOTIFICATION_KINDS = {
    SlaStage.WARNING: NotificationKind.SLA_WARNING,
    SlaStage.BREACH: NotificationKind.SLA_BREACH,
}
_SHORT = {
    SlaTarget.FIRST_RESPONSE: "fr",
    SlaTarget.NEXT_RESPONSE: "nr",
    SlaTarget.RESOLUTION: "res",
}


def _recorded(target: str, stage: str) -> Exists:
    """Whether `target` already reached `stage` in its current cycle.

    First response and resolution have one cycle per request (a reopened
    request resumes its resolution clock), so a deadline moved by a pause or
    a policy change is not warned about or breached a second time. Next
    response has one cycle per customer message awaiting an answer: the
    milestones of earlier cycles were recorded before the agent reply that
    ended them.
    """
    milestones = SlaMilestone.objects.filter(ticket=OuterRef("pk"), target=target, stage=stage)
    if target == SlaTarget.NEXT_RESPONSE:
        milestones = milestones.filter(created_at__gt=OuterRef("last_agent_reply_at"))
    return Exists(milestones)


def _crossings(now: datetime.datetime) -> QuerySet[Ticket]:
    """Requests with a warning point or deadline passed at `now` and not yet recorded.

    The range on `sla_warn_at` comes from its index; a warning point is never
    after its deadline, so every breached request is in it too. Each
    candidate is then checked against its recorded milestones (index
    lookups). A warning is about the nearest deadline (`sla_due_at`) and only
    while it is still ahead; every target's breach counts.
    """
    annotations = {}
    for target, short in _SHORT.items():
        annotations[f"{short}_warned"] = _recorded(target, SlaStage.WARNING)
        annotations[f"{short}_breached"] = _recorded(target, SlaStage.BREACH)
    at_risk = Q()
    breached = Q()
    for target, column in TARGET_COLUMNS.items():
        short = _SHORT[target]
        # Cheap column tests first, so most rows never reach the milestone lookup:
        # databases evaluate in this order and stop at the first false, but a
        # comparison with NULL is not false (hence IS NOT NULL), and keyword
        # arguments would be sorted ("res_breached" before "resolution_due_at").
        running = Q(**{f"{column}__isnull": False})
        at_risk |= running & Q(**{column: F("sla_due_at")}) & Q(**{f"{short}_warned": False})
        breached |= running & Q(**{f"{column}__lte": now}) & Q(**{f"{short}_breached": False})
    return (
        Ticket.objects.filter(sla_warn_at__lte=now)
        .annotate(**annotations)
        .filter((Q(sla_due_at__gt=now) & at_risk) | breached)
    )


def _due_iso(due_at: datetime.datetime) -> str:
    return due_at.astimezone(datetime.UTC).isoformat()


@dataclass
class SweepResult:
    """What one sweep recorded (each crossing once, whoever else swept)."""

    warnings: int = 0
    breaches: int = 0
    notifications: int = 0
    escalations: int = 0

    def add(self, other: SweepResult) -> None:
        for field in dataclasses.fields(self):
            setattr(self, field.name, getattr(self, field.name) + getattr(other, field.name))


def _new_milestones(ticket: Ticket, now: datetime.datetime) -> list[SlaMilestone]:
    """The crossings of `ticket` at `now` that its annotations say are not recorded yet."""
    found = []
    for target, column in TARGET_COLUMNS.items():
        due = getattr(ticket, column)
        if due is not None and due <= now and not getattr(ticket, f"{_SHORT[target]}_breached"):
            found.append((target, SlaStage.BREACH, due))
    if ticket.sla_due_at is not None and ticket.sla_warn_at <= now < ticket.sla_due_at:
        target = next(
            target
            for target, column in TARGET_COLUMNS.items()
            if getattr(ticket, column) == ticket.sla_due_at
        )
        if not getattr(ticket, f"{_SHORT[target]}_warned"):
            found.append((target, SlaStage.WARNING, ticket.sla_due_at))
    return [
        SlaMilestone(ticket=ticket, target=target, stage=stage, due_at=due, created_at=now)
        for target, stage, due in found
    ]


def _insert_new(milestones: Sequence[SlaMilestone]) -> set[tuple[int, str, str]]:
    """Insert `milestones`, skipping those recorded already; return (ticket, target, stage) of
    the rows this statement inserted.

    `bulk_create(ignore_conflicts=True)` cannot say which rows it inserted.
    `INSERT … ON CONFLICT DO NOTHING RETURNING` (PostgreSQL; SQLite ≥ 3.35)
    returns exactly those: a row another sweep inserted first is not returned
    (PostgreSQL waits for that sweep's transaction to end), so only one sweep
    acts on each crossing.
    """
    if not milestones:
        return set()
    meta = SlaMilestone._meta
    fields = [
        meta.get_field(name) for name in ("ticket", "target", "stage", "due_at", "created_at")
    ]
    quote = connection.ops.quote_name
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    params = [
        field.get_db_prep_save(getattr(milestone, field.attname), connection)
        for milestone in milestones
        for field in fields
    ]
    # Identifiers come from the model; every value is a parameter.
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "  # noqa: S608
        f"VALUES {', '.join([row] * len(milestones))} ON CONFLICT DO NOTHING "
        f"RETURNING {quote(fields[0].column)}, {quote(fields[1].column)}, {quote(fields[2].column)}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {(ticket_id, target, stage) for ticket_id, target, stage in cursor.fetchall()}


def _supervisors(team_ids: Iterable[int]) -> dict[int, list[User]]:
    found: dict[int, list[User]] = defaultdict(list)
    memberships = TeamMembership.objects.filter(
        team_id__in=set(team_ids), is_supervisor=True, user__is_active=True
    ).select_related("user")
    for membership in memberships.order_by("pk"):
        found[membership.team_id].append(membership.user)
    return found


def _recipients(ticket: Ticket, supervisors: Mapping[int, list[User]]) -> list[User]:
    """The assignee and the supervisors of the request's team, each once."""
    people: dict[int, User] = {}
    if ticket.assignee is not None and ticket.assignee.is_active:
        people[ticket.assignee.pk] = ticket.assignee
    for supervisor in supervisors.get(ticket.team_id, []) if ticket.team_id else []:
        people.setdefault(supervisor.pk, supervisor)
    return list(people.values())


def _without_jit() -> None:
    """Turn PostgreSQL's JIT compiler off for the rest of the transaction.

    The milestone sub-plans make the planner estimate `_crossings` far above
    `jit_above_cost`, and compiling it took longer (0.9 s) than running it
    (0.3 s, 100,000 requests). Nothing to do elsewhere.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL jit = off")


def _candidate_ids(now: datetime.datetime) -> list[int]:
    query = _crossings(now).order_by("pk").values_list("pk", flat=True)
    if connection.vendor != "postgresql":
        # Outside a transaction: on SQLite every transaction takes the write lock
        # (IMMEDIATE), and this read must not hold up the web requests' writes.
        return list(query)
    with transaction.atomic():
        _without_jit()
        return list(query)


def _sweep_batch(ticket_ids: Sequence[int], now: datetime.datetime) -> SweepResult:
    """Record, announce and escalate the crossings of `ticket_ids`; one transaction."""
    from tickets import services  # services imports this module

    _without_jit()
    result = SweepResult()
    # Checked again inside the transaction: a request may have changed since the scan.
    tickets = list(
        _crossings(now)
        .filter(pk__in=ticket_ids)
        .select_related("sla_policy", "assignee")
        .order_by("pk")
    )
    wanted = [milestone for ticket in tickets for milestone in _new_milestones(ticket, now)]
    inserted = _insert_new(wanted)
    new = [m for m in wanted if (m.ticket_id, m.target, m.stage) in inserted]
    if not new:
        return result
    by_id = {ticket.pk: ticket for ticket in tickets}
    TicketEvent.objects.bulk_create(
        TicketEvent(
            ticket_id=milestone.ticket_id,
            kind=_EVENT_KINDS[milestone.stage],
            new_value={"target": milestone.target, "due_at": _due_iso(milestone.due_at)},
            is_public=False,
            created_at=now,
        )
        for milestone in new
    )
    supervisors = _supervisors(ticket.team_id for ticket in tickets if ticket.team_id)
    escalate: dict[int, Ticket] = {}
    for milestone in new:
        ticket = by_id[milestone.ticket_id]
        breach = milestone.stage == SlaStage.BREACH
        result.breaches += breach
        result.warnings += not breach
        due = _due_iso(milestone.due_at)
        for recipient in _recipients(ticket, supervisors):
            queued = notifications.queue(
                _NOTIFICATION_KINDS[milestone.stage],
                ticket=ticket,
                recipient=recipient,
                language=recipient.preferred_language,
                context={"target": milestone.target, "due_at": due},
                dedupe_key=(
                    f"sla:{ticket.pk}:{milestone.target}:{milestone.stage}:{due}:{recipient.pk}"
                ),
            )
            result.notifications += queued is not None
        if breach and ticket.sla_policy is not None and ticket.sla_policy.escalate_on_breach:
            escalate[ticket.pk] = ticket
    # One level per request and sweep, however many of its targets were breached at once.
    for ticket in escalate.values():
        if services.ticket_escalate_priority(ticket=ticket, now=now) is not None:
            result.escalations += 1
    return result


def _chunks(values: Sequence[int], size: int) -> Iterator[Sequence[int]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def sla_sweep(*, now: datetime.datetime, batch_size: int | None = None) -> SweepResult:
    """Record every SLA warning point and deadline passed at `now`, once; notify and escalate.

    One indexed scan finds the requests with a crossing not recorded yet
    (`_crossings`); they are handled in batches of `batch_size`, each in its
    own transaction: a `SlaMilestone` per crossing, an internal event, emails
    to the assignee and the team's supervisors, and on a breach under a
    policy that says so, the priority one level up. Safe to run twice or
    concurrently: only the sweep whose INSERT created a milestone acts on it.
    """
    batch_size = batch_size or settings.SLA_SWEEP_BATCH_SIZE
    candidates = _candidate_ids(now)
    result = SweepResult()
    for chunk in _chunks(candidates, batch_size):
        with transaction.atomic():
            result.add(_sweep_batch(chunk, now))
    return result
