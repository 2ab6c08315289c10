"""Every write to a support request. Pages, the console, the API and livechat call these.

Each function runs in one transaction and records what it did as
`TicketEvent` rows. Writes to the request row are conditional on `version`
(`UPDATE … WHERE pk = ? AND version = ?`): an agent acting on a page that is
no longer current gets `ConcurrentChangeError` and nothing changes. Functions
that agents call from a page take `expected_version`, the version the page
showed; customer verbs accept None for "whatever is current" because a
customer's action never overrides an agent's decision.

Which events customers see (`is_public`, their timeline):

- public: created, status, reopened, category, fields, follow_up, rated,
  merged (on the merged request), merged_from (only when both requests have
  the same requester);
- internal: assignee, team, priority (queue mechanics that would read as
  promises), merged_from between different customers.

Internal notes never change status or the request row, so writing one does
not make other agents' pages stale.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import F, prefetch_related_objects
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from support_portal import uploads
from tickets import fields as field_rules
from tickets import notifications, presence, sla
from tickets.lifecycle import (
    ActorKind,
    Status,
    TransitionError,
    check_transition,
    reopen_window,
    within_reopen_window,
)
from tickets.models import (
    BODY_MAX_LENGTH,
    SUBJECT_MAX_LENGTH,
    Attachment,
    Channel,
    Deflection,
    Message,
    Priority,
    Rating,
    Team,
    TeamMembership,
    Ticket,
    TicketCategory,
    TicketEvent,
    TicketIdentifier,
    generate_reference,
)
from tickets.permissions import (
    actor_kind_for,
    ensure_can_work_on,
    ensure_is_requester,
    is_agent,
)
from tickets.routing import assignee_snapshot, route_ticket

RATING_COMMENT_MAX_LENGTH = 2000
NOT_ATTACHABLE = gettext_lazy("One of the files cannot be attached; upload it again.")
_REFERENCE_ATTEMPTS = 10


class ConcurrentChangeError(ValidationError):
    """The request changed since the caller read it (HTTP 409 in the API)."""

    def __init__(self) -> None:
        super().__init__(
            _("Someone else changed this request; reload to see their change."), code="stale"
        )


# Internals ---------------------------------------------------------------------------


def _invalid(name: str, message: str, code: str) -> ValidationError:
    """An error on one input, keeping its code (the API reports codes)."""
    return ValidationError({name: ValidationError(message, code=code)})


def _event(
    kind: str, *, actor: User | None, old: Any = None, new: Any = None, public: bool, now
) -> TicketEvent:
    return TicketEvent(
        kind=kind, actor=actor, old_value=old, new_value=new, is_public=public, created_at=now
    )


def _current(ticket: Ticket, expected_version: int | None, *, lock: bool = False) -> Ticket:
    """Re-read the request inside the transaction; stale callers stop here.

    `lock=True` takes a row lock (SELECT … FOR UPDATE) for writes whose
    outcome depends on the state they read, such as replies choosing between
    reopen and follow-up.
    """
    queryset = Ticket.objects.select_related(
        "category", "team", "assignee", "requester", "sla_policy__calendar"
    )
    if lock:
        queryset = queryset.select_for_update(of=("self",))
    current = queryset.get(pk=ticket.pk)
    if expected_version is not None and current.version != expected_version:
        raise ConcurrentChangeError()
    return current


def _write(
    ticket: Ticket,
    current: Ticket,
    changes: dict[str, Any],
    events: list[TicketEvent],
    *,
    now,
    change_kind: str = presence.CHANGE_KIND_UPDATE,
    keep_sla_policy: bool = False,
) -> Ticket:
    """Apply `changes` if the row is still at `current.version`; record `events`.

    Updates the caller's `ticket` instance to the new state, and (after the
    commit) tells agents who have the request open that it changed, whichever
    page, API call or task changed it.
    """
    changes = {**changes, "updated_at": now}
    # Deadlines move in the same UPDATE as the change that moves them (tickets.sla).
    changes.update(sla.sla_changes(current, changes, events, keep_policy=keep_sla_policy))
    updated = Ticket.objects.filter(pk=current.pk, version=current.version).update(
        **changes, version=F("version") + 1
    )
    if not updated:
        raise ConcurrentChangeError()
    for event in events:
        event.ticket_id = current.pk
    TicketEvent.objects.bulk_create(events)
    new_version = current.version + 1
    actor = next((event.actor for event in events if event.actor_id), None)
    presence.ticket_changed(current, actor=actor, kind=change_kind, version=new_version)
    instances = [current]
    if ticket is not current:
        for field in Ticket._meta.concrete_fields:
            setattr(ticket, field.attname, getattr(current, field.attname))
        instances.append(ticket)
    for instance in instances:
        for name, value in changes.items():
            setattr(instance, name, value)
        instance.version = new_version
    return ticket


def _ensure_open_for_changes(ticket: Ticket) -> None:
    if ticket.status == Status.CLOSED:
        raise TransitionError(_("A closed request cannot be changed."), code="closed")


def _status_changes(ticket: Ticket, to_status: str, now) -> dict[str, Any]:
    changes: dict[str, Any] = {"status": to_status, "status_changed_at": now}
    if to_status == Status.SOLVED:
        changes["solved_at"] = now
    elif to_status == Status.CLOSED:
        changes["closed_at"] = now
    elif ticket.status == Status.SOLVED:
        # Reopened: no longer solved; the next solve starts a new reopen window.
        changes["solved_at"] = None
    return changes


def _status_event(ticket: Ticket, to_status: str, *, actor: User | None, now) -> TicketEvent:
    reopening = ticket.status == Status.SOLVED and to_status == Status.OPEN
    kind = TicketEvent.Kind.REOPENED if reopening else TicketEvent.Kind.STATUS
    return _event(kind, actor=actor, old=ticket.status, new=to_status, public=True, now=now)


def _move(
    ticket: Ticket,
    *,
    actor: User | None,
    to_status: str,
    expected_version: int | None,
    now: datetime.datetime | None,
    required_kind: str | None = None,
) -> Ticket:
    now = now or timezone.now()
    current = _current(ticket, expected_version)
    kind = actor_kind_for(actor, current)
    if required_kind is not None and kind != required_kind:
        raise PermissionDenied
    check_transition(current, to_status, kind, now)
    event = _status_event(current, to_status, actor=actor, now=now)
    _write(ticket, current, _status_changes(current, to_status, now), [event], now=now)
    notifications.notify_status_changed(current, to_status=to_status, actor_kind=kind)
    return ticket


def _check_attachments(attachments: Sequence[Attachment], uploader: User) -> None:
    limit = settings.TICKET_ATTACHMENTS_PER_MESSAGE
    if len(attachments) > limit:
        raise _invalid(
            "attachments",
            _("Attach at most %(count)d files to one message.") % {"count": limit},
            "too_many",
        )
    for attachment in attachments:
        if attachment.message_id is not None or attachment.uploaded_by_id != uploader.pk:
            raise _invalid("attachments", NOT_ATTACHABLE, "not_yours")


def _attach(message: Message, attachments: Sequence[Attachment], uploader: User) -> None:
    if not attachments:
        return
    ids = {attachment.pk for attachment in attachments}
    # Claimed conditionally: an upload attached elsewhere meanwhile is not stolen.
    claimed = Attachment.objects.filter(
        pk__in=ids, message__isnull=True, uploaded_by=uploader
    ).update(message=message)
    if claimed != len(ids):
        raise _invalid("attachments", NOT_ATTACHABLE, "not_yours")
    for attachment in attachments:
        attachment.message = message


def _insert_with_reference(ticket: Ticket) -> None:
    """Save a new request under a fresh random reference, retrying on a collision."""
    for _attempt in range(_REFERENCE_ATTEMPTS):
        ticket.reference = generate_reference()
        try:
            with transaction.atomic():
                ticket.save(force_insert=True)
        except IntegrityError:
            if not Ticket.objects.filter(reference=ticket.reference).exists():
                raise
            continue
        return
    raise RuntimeError("Could not find a free request reference.")


def _sync_identifiers(ticket: Ticket, wanted: set[tuple[str, str]]) -> None:
    existing = set(ticket.identifiers.values_list("kind", "value"))
    stale = existing - wanted
    for kind, value in stale:
        ticket.identifiers.filter(kind=kind, value=value).delete()
    TicketIdentifier.objects.bulk_create(
        [
            TicketIdentifier(ticket=ticket, kind=kind, value=value)
            for kind, value in wanted - existing
        ]
    )


def _clean_body(body: str, *, required: bool) -> str:
    try:
        return field_rules.clean_text(
            body, max_length=BODY_MAX_LENGTH, multiline=True, required=required
        )
    except ValidationError as exc:
        raise ValidationError({"body": exc.error_list}) from exc


def _open(
    *,
    requester: User,
    category: TicketCategory,
    subject: str,
    description: str,
    cleaned_fields: dict[str, str],
    language: str,
    channel: str,
    attachments: Sequence[Attachment],
    priority: int,
    follow_up_of: Ticket | None = None,
    cc_emails: Sequence[str] = (),
    now: datetime.datetime,
) -> Ticket:
    """Insert an already validated request with its first message, identifiers and events."""
    ticket = Ticket(
        cc_emails=list(cc_emails),
        requester=requester,
        category=category,
        subject=subject,
        description=description,
        fields=cleaned_fields,
        language=language,
        channel=channel,
        priority=priority,
        status=Status.NEW,
        follow_up_of=follow_up_of,
        created_at=now,
        updated_at=now,
        status_changed_at=now,
        last_customer_reply_at=now,
    )
    route_ticket(ticket)
    # The SLA policy is chosen now, with the team routing picked (tickets.sla).
    for name, value in sla.sla_fields(ticket, rematch=True).items():
        setattr(ticket, name, value)
    _insert_with_reference(ticket)
    message = Message.objects.create(
        ticket=ticket, author=requester, body=description, channel=channel, created_at=now
    )
    _attach(message, attachments, requester)
    TicketIdentifier.objects.bulk_create(
        TicketIdentifier(ticket=ticket, kind=kind, value=value)
        for kind, value in field_rules.identifiers_from(category.form_fields.all(), cleaned_fields)
    )
    created = {"category": category.slug, "channel": channel}
    if follow_up_of is not None:
        created["follow_up_of"] = follow_up_of.reference
    events = [_event(TicketEvent.Kind.CREATED, actor=requester, new=created, public=True, now=now)]
    if ticket.team is not None:
        events.append(
            _event(TicketEvent.Kind.TEAM, actor=None, new=ticket.team.slug, public=False, now=now)
        )
    if ticket.assignee is not None:
        events.append(
            _event(
                TicketEvent.Kind.ASSIGNEE,
                actor=None,
                new=assignee_snapshot(ticket.assignee),
                public=False,
                now=now,
            )
        )
    for event in events:
        event.ticket = ticket
    TicketEvent.objects.bulk_create(events)
    # The requester gets the reference and the expected response time by email,
    # whichever channel the request came through (web, API, a follow-up reply);
    # the agent routing chose hears about it too.
    notifications.notify_ticket_created(ticket)
    notifications.notify_assigned(ticket, assignee=ticket.assignee, actor=None)
    return ticket


# Creating and replying --------------------------------------------------------------


@transaction.atomic
def ticket_create(
    *,
    requester: User,
    category: TicketCategory,
    subject: str,
    description: str,
    fields: Mapping[str, Any],
    language: str,
    channel: str = Channel.WEB,
    attachments: Sequence[Attachment] = (),
    priority: int | None = None,
    cc_emails: Sequence[str] = (),
    now: datetime.datetime | None = None,
) -> Ticket:
    """Validate and open a request, route it, and post its description as the first message.

    `cc_emails`: other addresses on the email that opened it, whose replies are accepted.

    Raises one ValidationError keyed by input name ("subject", "description",
    "attachments", or a TicketField key) listing every problem. Priority
    defaults to the category's; a compromise category is always urgent.
    """
    if not requester.is_active:
        raise PermissionDenied
    # Read once: validation, identifiers and the caller's response all use them.
    prefetch_related_objects([category], "form_fields")
    errors: dict[str, list[ValidationError]] = {}
    if not category.is_active:
        errors["category"] = [
            ValidationError(_("Choose one of the offered categories."), code="inactive")
        ]
    if language not in dict(settings.LANGUAGES):
        errors["language"] = [ValidationError(_("Choose a supported language."), code="language")]
    if channel not in Channel.values:
        raise ValueError(f"Unknown channel {channel!r}")
    if priority is not None and priority not in Priority.values:
        raise ValueError(f"Unknown priority {priority!r}")
    try:
        subject = field_rules.clean_text(subject, max_length=SUBJECT_MAX_LENGTH, multiline=False)
    except ValidationError as exc:
        errors["subject"] = exc.error_list
    try:
        description = field_rules.clean_text(
            description, max_length=BODY_MAX_LENGTH, multiline=True
        )
    except ValidationError as exc:
        errors["description"] = exc.error_list
    cleaned: dict[str, str] = {}
    try:
        cleaned = field_rules.clean_fields(category.form_fields.all(), fields)
    except ValidationError as exc:
        errors.update(exc.error_dict)
    try:
        _check_attachments(attachments, requester)
    except ValidationError as exc:
        errors.update(exc.error_dict)
    if errors:
        raise ValidationError(errors)
    initial = category.initial_priority if priority is None else priority
    if category.is_compromise:
        initial = Priority.URGENT
    return _open(
        requester=requester,
        category=category,
        subject=subject,
        description=description,
        cleaned_fields=cleaned,
        language=language,
        channel=channel,
        attachments=attachments,
        priority=initial,
        cc_emails=cc_emails,
        now=now or timezone.now(),
    )


def _merge_destination(ticket: Ticket, customer: User) -> Ticket | None:
    """Where a customer's reply to a merged request belongs: the request it was merged into,
    when that is theirs and still open to replies."""
    seen = {ticket.pk}
    target = ticket
    while target.merged_into_id is not None and target.merged_into_id not in seen:
        seen.add(target.merged_into_id)
        target = Ticket.objects.get(pk=target.merged_into_id)
    if target is ticket or target.requester_id != customer.pk or target.status == Status.CLOSED:
        return None
    return target


@transaction.atomic
def ticket_reply(
    *,
    ticket: Ticket,
    author: User,
    body: str,
    internal: bool = False,
    attachments: Sequence[Attachment] = (),
    now: datetime.datetime | None = None,
    channel: str = Channel.WEB,
) -> Message:
    """Post a reply (or, for agents, an internal note) and apply what it implies.

    - Customer on a request waiting on them: back to open.
    - Customer on a solved request within the reopen window: reopened.
    - Customer on a solved request after the window, or on a closed one: a
      linked follow-up request is opened and the message lands there (check
      `message.ticket`). A merged request forwards to the one it was merged into.
    - Agent public reply: records the first response; a new request becomes open.
    - Internal notes: agents only; never change the request.

    Only the requester and agents who can work on the request may reply
    (PermissionDenied otherwise). Takes a row lock: the outcome depends on
    the status read.
    """
    now = now or timezone.now()
    current = _current(ticket, None, lock=True)
    kind = actor_kind_for(author, current)
    if kind == ActorKind.SYSTEM:
        raise PermissionDenied
    body = _clean_body(body, required=not attachments)
    _check_attachments(attachments, author)

    if internal:
        if kind != ActorKind.AGENT:
            raise PermissionDenied
        # A note leaves the request as it was, but colleagues with it open should see it.
        presence.ticket_changed(current, actor=author, kind=presence.CHANGE_KIND_MESSAGE)
        return _post(
            current, author, body, internal=True, attachments=attachments, channel=channel, now=now
        )

    if kind == ActorKind.CUSTOMER:
        if current.status == Status.CLOSED:
            destination = _merge_destination(current, author)
            if destination is not None:
                return ticket_reply(
                    ticket=destination,
                    author=author,
                    body=body,
                    attachments=attachments,
                    now=now,
                    channel=channel,
                )
        if current.status == Status.CLOSED or (
            current.status == Status.SOLVED and not within_reopen_window(current, now)
        ):
            return _follow_up(
                current, author, body, attachments=attachments, channel=channel, now=now
            )
    else:
        _ensure_open_for_changes(current)
    changes, events = _reply_effects(current, kind, author, now)
    message = _post(
        current, author, body, internal=False, attachments=attachments, channel=channel, now=now
    )
    _write(ticket, current, changes, events, now=now, change_kind=presence.CHANGE_KIND_MESSAGE)
    if kind == ActorKind.AGENT:
        notifications.notify_agent_reply(current, message)
    return message


def _reply_effects(
    current: Ticket, kind: str, author: User, now
) -> tuple[dict[str, Any], list[TicketEvent]]:
    """What a public reply changes on a request that stays in use (no follow-up)."""
    changes: dict[str, Any] = {}
    if kind == ActorKind.CUSTOMER:
        changes["last_customer_reply_at"] = now
        opens = current.status in (Status.WAITING, Status.SOLVED)
    else:
        changes["last_agent_reply_at"] = now
        if current.first_response_at is None:
            changes["first_response_at"] = now
        # Somebody has looked at it now.
        opens = current.status == Status.NEW
    if not opens:
        return changes, []
    check_transition(current, Status.OPEN, kind, now)
    changes.update(_status_changes(current, Status.OPEN, now))
    return changes, [_status_event(current, Status.OPEN, actor=author, now=now)]


def _post(
    ticket: Ticket,
    author: User | None,
    body: str,
    *,
    internal: bool,
    attachments: Sequence[Attachment],
    channel: str,
    now,
) -> Message:
    message = Message.objects.create(
        ticket=ticket,
        author=author,
        body=body,
        is_internal=internal,
        channel=channel,
        created_at=now,
    )
    if author is not None:
        _attach(message, attachments, author)
    return message


def _follow_up(
    ticket: Ticket,
    customer: User,
    body: str,
    *,
    attachments: Sequence[Attachment],
    channel: str,
    now,
) -> Message:
    follow_up = _open(
        requester=customer,
        category=ticket.category,
        subject=ticket.subject,
        description=body,
        # Valid when they were saved; the category's form may have changed since.
        cleaned_fields=dict(ticket.fields),
        language=ticket.language,
        channel=channel,
        attachments=attachments,
        priority=ticket.category.initial_priority,
        follow_up_of=ticket,
        now=now,
    )
    TicketEvent.objects.create(
        ticket=ticket,
        kind=TicketEvent.Kind.FOLLOW_UP,
        actor=customer,
        new_value=follow_up.reference,
        is_public=True,
        created_at=now,
    )
    return follow_up.messages.get()


# Agent changes (all take expected_version) ------------------------------------------


@transaction.atomic
def ticket_change_status(
    *,
    ticket: Ticket,
    actor: User | None,
    to_status: str,
    expected_version: int,
    now: datetime.datetime | None = None,
) -> Ticket:
    """Move the request to `to_status` as `actor` (None: the system), per `tickets.lifecycle`."""
    return _move(
        ticket, actor=actor, to_status=to_status, expected_version=expected_version, now=now
    )


@transaction.atomic
def ticket_assign(
    *,
    ticket: Ticket,
    actor: User,
    assignee: User | None,
    expected_version: int,
) -> Ticket:
    """Assign the request to an agent, or unassign it (None)."""
    now = timezone.now()
    current = _current(ticket, expected_version)
    ensure_can_work_on(actor, current)
    _ensure_open_for_changes(current)
    if assignee is not None and not is_agent(assignee):
        raise _invalid("assignee", _("Only an agent can be assigned a request."), "not_agent")
    if assignee == current.assignee:
        return ticket
    event = _event(
        TicketEvent.Kind.ASSIGNEE,
        actor=actor,
        old=assignee_snapshot(current.assignee),
        new=assignee_snapshot(assignee),
        public=False,
        now=now,
    )
    _write(ticket, current, {"assignee": assignee}, [event], now=now)
    notifications.notify_assigned(current, assignee=assignee, actor=actor)
    return ticket


@transaction.atomic
def ticket_set_priority(
    *, ticket: Ticket, actor: User, priority: int, expected_version: int
) -> Ticket:
    now = timezone.now()
    current = _current(ticket, expected_version)
    ensure_can_work_on(actor, current)
    _ensure_open_for_changes(current)
    if priority not in Priority.values:
        raise _invalid("priority", _("Choose a priority."), "invalid")
    if priority == current.priority:
        return ticket
    event = _event(
        TicketEvent.Kind.PRIORITY,
        actor=actor,
        old=current.priority,
        new=priority,
        public=False,
        now=now,
    )
    return _write(ticket, current, {"priority": priority}, [event], now=now)


@transaction.atomic
def ticket_escalate_priority(*, ticket: Ticket, now: datetime.datetime) -> Ticket | None:
    """Raise the priority one level after an SLA breach (the system's doing, actor None).

    None when there is nothing to raise: urgent already, or no longer active.
    The SLA policy stays as it was (see tickets.sla). Takes a row lock, so
    the sweep never loses the raise to a concurrent change.
    """
    current = _current(ticket, None, lock=True)
    higher = [level for level in Priority.values if level > current.priority]
    if not higher or not current.is_active:
        return None
    event = _event(
        TicketEvent.Kind.PRIORITY,
        actor=None,
        old=current.priority,
        new=min(higher),
        public=False,
        now=now,
    )
    return _write(
        ticket, current, {"priority": min(higher)}, [event], now=now, keep_sla_policy=True
    )


def _team_changes(
    current: Ticket, team: Team | None, *, actor: User | None, now
) -> tuple[dict[str, Any], list[TicketEvent]]:
    """Changes and events for moving a request to `team`.

    The assignee stays only if they belong to the new team: otherwise the
    request would sit with someone outside the queue that now owns it.
    """
    if team == current.team:
        return {}, []
    changes: dict[str, Any] = {"team": team}
    events = [
        _event(
            TicketEvent.Kind.TEAM,
            actor=actor,
            old=current.team.slug if current.team else None,
            new=team.slug if team else None,
            public=False,
            now=now,
        )
    ]
    if (
        current.assignee_id is not None
        and team is not None
        and not TeamMembership.objects.filter(team=team, user_id=current.assignee_id).exists()
    ):
        changes["assignee"] = None
        events.append(
            _event(
                TicketEvent.Kind.ASSIGNEE,
                actor=actor,
                old=assignee_snapshot(current.assignee),
                new=None,
                public=False,
                now=now,
            )
        )
    return changes, events


@transaction.atomic
def ticket_set_team(
    *, ticket: Ticket, actor: User, team: Team | None, expected_version: int
) -> Ticket:
    """Move the request to another team's queue (None: the shared triage queue)."""
    now = timezone.now()
    current = _current(ticket, expected_version)
    ensure_can_work_on(actor, current)
    _ensure_open_for_changes(current)
    changes, events = _team_changes(current, team, actor=actor, now=now)
    if not changes:
        return ticket
    return _write(ticket, current, changes, events, now=now)


@transaction.atomic
def ticket_change_category(
    *, ticket: Ticket, actor: User, category: TicketCategory, expected_version: int
) -> Ticket:
    """Re-file the request under `category`.

    The request follows the new category's team when it was still in the old
    category's team (i.e. nobody had moved it on purpose). A compromise
    category raises the priority to urgent. Stored field values are kept;
    `ticket_update_fields` validates against the new category's form.
    """
    now = timezone.now()
    current = _current(ticket, expected_version)
    ensure_can_work_on(actor, current)
    _ensure_open_for_changes(current)
    if not category.is_active:
        raise _invalid("category", _("Choose an active category."), "inactive")
    if category.pk == current.category_id:
        return ticket
    changes: dict[str, Any] = {"category": category}
    events = [
        _event(
            TicketEvent.Kind.CATEGORY,
            actor=actor,
            old=current.category.slug,
            new=category.slug,
            public=True,
            now=now,
        )
    ]
    if current.team_id == current.category.team_id and category.team_id != current.team_id:
        team_changes, team_events = _team_changes(current, category.team, actor=actor, now=now)
        changes.update(team_changes)
        events.extend(team_events)
    if category.is_compromise and current.priority < Priority.URGENT:
        changes["priority"] = Priority.URGENT
        events.append(
            _event(
                TicketEvent.Kind.PRIORITY,
                actor=actor,
                old=current.priority,
                new=int(Priority.URGENT),
                public=False,
                now=now,
            )
        )
    return _write(ticket, current, changes, events, now=now)


@transaction.atomic
def ticket_update_fields(
    *, ticket: Ticket, actor: User, values: Mapping[str, Any], expected_version: int
) -> Ticket:
    """Replace the request's structured details with `values` (the whole form).

    The requester or an agent may; the values are validated against the
    current category's fields and the searchable identifiers follow.
    """
    now = timezone.now()
    current = _current(ticket, expected_version)
    actor_kind_for(actor, current)
    _ensure_open_for_changes(current)
    form_fields = list(current.category.form_fields.all())
    cleaned = field_rules.clean_fields(form_fields, values)
    changed = sorted(
        key
        for key in set(cleaned) | set(current.fields)
        if cleaned.get(key) != current.fields.get(key)
    )
    if not changed:
        return ticket
    event = _event(
        TicketEvent.Kind.FIELDS,
        actor=actor,
        old={key: current.fields.get(key) for key in changed},
        new={key: cleaned.get(key) for key in changed},
        public=True,
        now=now,
    )
    _write(ticket, current, {"fields": cleaned}, [event], now=now)
    _sync_identifiers(current, field_rules.identifiers_from(form_fields, cleaned))
    return ticket


# Customer verbs -----------------------------------------------------------------------


@transaction.atomic
def ticket_solve_by_customer(
    *,
    ticket: Ticket,
    customer: User,
    expected_version: int | None = None,
    now: datetime.datetime | None = None,
) -> Ticket:
    """The requester says the problem is solved."""
    ensure_is_requester(customer, ticket)
    return _move(
        ticket,
        actor=customer,
        to_status=Status.SOLVED,
        expected_version=expected_version,
        now=now,
        required_kind=ActorKind.CUSTOMER,
    )


@transaction.atomic
def ticket_reopen_by_customer(
    *,
    ticket: Ticket,
    customer: User,
    expected_version: int | None = None,
    now: datetime.datetime | None = None,
) -> Ticket:
    """The requester reopens a solved request (within the reopen window)."""
    ensure_is_requester(customer, ticket)
    return _move(
        ticket,
        actor=customer,
        to_status=Status.OPEN,
        expected_version=expected_version,
        now=now,
        required_kind=ActorKind.CUSTOMER,
    )


@transaction.atomic
def ticket_rate(
    *,
    ticket: Ticket,
    customer: User,
    rating: str,
    comment: str = "",
    now: datetime.datetime | None = None,
) -> Ticket:
    """The requester rates the support they got on a solved or closed request.

    A rating may be changed within the reopen window after it was first
    given (people click the wrong face), then it is final.
    """
    now = now or timezone.now()
    ensure_is_requester(customer, ticket)
    current = _current(ticket, None)
    if current.status not in (Status.SOLVED, Status.CLOSED) or current.merged_into_id:
        raise ValidationError(_("You can rate a request once it is solved."), code="not_solved")
    if rating not in Rating.values:
        raise _invalid("rating", _("Choose good or bad."), "invalid")
    if current.rated_at is not None and now > current.rated_at + reopen_window():
        raise ValidationError(_("This rating can no longer be changed."), code="rating_final")
    try:
        comment = field_rules.clean_text(
            comment, max_length=RATING_COMMENT_MAX_LENGTH, multiline=True, required=False
        )
    except ValidationError as exc:
        raise ValidationError({"comment": exc.error_list}) from exc
    event = _event(
        TicketEvent.Kind.RATED,
        actor=customer,
        old=current.rating or None,
        new=rating,
        public=True,
        now=now,
    )
    changes = {"rating": rating, "rating_comment": comment, "rated_at": current.rated_at or now}
    return _write(ticket, current, changes, [event], now=now)


# Merging ------------------------------------------------------------------------------


@transaction.atomic
def ticket_merge(*, source: Ticket, target: Ticket, actor: User) -> Ticket:
    """Merge `source` into `target`: move its conversation there and close it.

    Messages keep their timestamps, so the merged thread reads in time order.
    When the two requests belong to different customers, the moved messages
    become internal notes on the target: one customer must never read
    another's messages or files. The source's customer keeps their closed
    request with a "merged" event; replies to it open a follow-up. Both rows
    are locked (in primary-key order, so two opposite merges cannot deadlock).
    """
    if source.pk == target.pk:
        raise ValidationError(_("A request cannot be merged into itself."), code="same")
    now = timezone.now()
    locked = {
        row.pk: row
        for row in Ticket.objects.select_for_update(of=("self",))
        .select_related("requester", "category")
        .filter(pk__in=[source.pk, target.pk])
        .order_by("pk")
    }
    current_source, current_target = locked[source.pk], locked[target.pk]
    ensure_can_work_on(actor, current_source)
    ensure_can_work_on(actor, current_target)
    if current_target.status == Status.CLOSED:
        raise ValidationError(_("A request cannot be merged into a closed one."), code="closed")
    check_transition(current_source, Status.CLOSED, ActorKind.SYSTEM, now, via_merge=True)
    same_requester = current_source.requester_id == current_target.requester_id

    moved = Message.objects.filter(ticket=current_source)
    if same_requester:
        moved.update(ticket=current_target)
    else:
        moved.update(ticket=current_target, is_internal=True)
    TicketIdentifier.objects.bulk_create(
        [
            TicketIdentifier(ticket=current_target, kind=kind, value=value)
            for kind, value in current_source.identifiers.values_list("kind", "value")
        ],
        ignore_conflicts=True,
    )
    note = _("Merged from %(reference)s.") % {"reference": current_source.reference}
    if not same_requester:
        requester = current_source.requester
        note += " " + _(
            "That request came from another customer, %(email)s (UID %(uid)s); "
            "their messages are internal notes here."
        ) % {"email": requester.email, "uid": requester.uid}
    Message.objects.create(ticket=current_target, body=note, is_internal=True, created_at=now)

    source_changes = {
        **_status_changes(current_source, Status.CLOSED, now),
        "merged_into": current_target,
    }
    source_event = _event(
        TicketEvent.Kind.MERGED,
        actor=actor,
        old=current_source.status,
        new=current_target.reference if same_requester else None,
        public=True,
        now=now,
    )
    _write(source, current_source, source_changes, [source_event], now=now)

    target_changes: dict[str, Any] = {}
    target_events = [
        _event(
            TicketEvent.Kind.MERGED_FROM,
            actor=actor,
            new=current_source.reference,
            public=same_requester,
            now=now,
        )
    ]
    if current_source.priority > current_target.priority:
        # A merged urgent report keeps its place in the queue.
        target_changes["priority"] = current_source.priority
        target_events.append(
            _event(
                TicketEvent.Kind.PRIORITY,
                actor=actor,
                old=current_target.priority,
                new=current_source.priority,
                public=False,
                now=now,
            )
        )
    return _write(target, current_target, target_changes, target_events, now=now)


# Deflections and attachments ---------------------------------------------------------


def deflection_record(
    *,
    user: User | None,
    article_key: str,
    language: str,
    subject: str = "",
    category: TicketCategory | None = None,
) -> Deflection:
    """Record that a suggested article answered the question before a request was sent."""
    if language not in dict(settings.LANGUAGES):
        raise _invalid("language", _("Choose a supported language."), "language")
    # What the customer had typed into the request form, kept for reporting only.
    subject = field_rules.clean_text(
        subject, max_length=BODY_MAX_LENGTH, multiline=False, required=False
    )[:SUBJECT_MAX_LENGTH]
    return Deflection.objects.create(
        user=user if user is not None and user.is_authenticated else None,
        article_key=article_key[:120],
        language=language,
        subject=subject,
        category=category,
    )


def attachment_store(*, data: bytes, filename: str, uploaded_by: User) -> Attachment:
    """Verify an upload (image, PDF or text) and keep it, unattached, until a message is sent.

    Raises ValidationError for a refused file (type, size, content). Files
    live in private storage under an unguessable name; images get a thumbnail.
    """
    clean = uploads.clean_upload(
        data,
        filename=filename,
        allowed={uploads.UploadKind.IMAGE, uploads.UploadKind.PDF, uploads.UploadKind.TEXT},
        max_bytes=settings.TICKET_ATTACHMENT_MAX_BYTES,
    )
    attachment = Attachment(
        uploaded_by=uploaded_by,
        original_name=clean.original_name[:255],
        content_type=clean.content_type,
        kind=clean.kind,
        size=len(clean.content),
        width=clean.width,
        height=clean.height,
        sha256=clean.sha256,
    )
    attachment.file.save(f"upload.{clean.extension}", ContentFile(clean.content), save=False)
    try:
        thumbnail = uploads.make_thumbnail(clean)
        if thumbnail is not None:
            content, extension = thumbnail
            attachment.thumbnail.save(f"thumb.{extension}", ContentFile(content), save=False)
        attachment.save()
    except BaseException:
        # No row, no file: an orphan in private storage would never be cleaned up.
        attachment.file.delete(save=False)
        if attachment.thumbnail:
            attachment.thumbnail.delete(save=False)
        raise
    return attachment


@contextmanager
def stored_attachments(
    files: Sequence[UploadedFile], *, uploaded_by: User
) -> Iterator[list[Attachment]]:
    """Verify and store uploaded `files` for the block's message; all or nothing.

    Every file is checked (images are decoded and re-encoded) before the block
    opens a transaction, so slow uploads never hold the database's write lock.
    All refused files are reported together as one ValidationError on
    "attachments", one message per file. If a file is refused or the block
    raises, whatever was stored is removed again: a rollback would keep the
    files on disk, unreferenced. Files left unattached when the block returns
    normally (a form shown again) stay for the next submit.
    """
    stored: list[Attachment] = []
    try:
        refused: list[ValidationError] = []
        for upload in files:
            # One byte over the limit is enough to refuse a file by size;
            # reading all of a 2 GB upload into memory first is not.
            upload.seek(0)
            data = upload.read(settings.TICKET_ATTACHMENT_MAX_BYTES + 1)
            try:
                stored.append(
                    attachment_store(data=data, filename=upload.name or "", uploaded_by=uploaded_by)
                )
            except ValidationError as exc:
                refused.append(
                    ValidationError(
                        _("“%(name)s” was not attached: %(error)s")
                        % {
                            "name": uploads.clean_filename(upload.name or ""),
                            "error": " ".join(exc.messages),
                        },
                        code=getattr(exc, "code", None) or "refused",
                    )
                )
        if refused:
            raise ValidationError({"attachments": refused})
        yield stored
    except BaseException:
        _discard_unattached(stored)
        raise


def _discard_unattached(attachments: Sequence[Attachment]) -> None:
    # Only what no committed message holds: the block may have failed after its commit.
    unattached = Attachment.objects.filter(
        pk__in=[attachment.pk for attachment in attachments if attachment.pk],
        message__isnull=True,
    )
    for attachment in unattached:
        attachment.file.delete(save=False)
        if attachment.thumbnail:
            attachment.thumbnail.delete(save=False)
    unattached.delete()
