"""The request inbox and workspace of the agent console. Every page needs `tickets.work_tickets`.

Views parse input, fetch the request through `selectors.ticket_for_agent`
(Http404 outside the agent's scope), call one service and redirect. A
service's ValidationError is shown on the form that caused it and nothing
is written; `ConcurrentChangeError` re-renders the workspace as it is now,
keeping what the agent typed, with status 409. After a successful change the
request's other open workspaces are told through `tickets.presence`.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import dateformat, timezone
from django.utils.dateformat import re_escaped, re_formatchars
from django.utils.formats import get_format
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.timesince import TIME_STRINGS, timesince
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from accounts.caching import load_cached_permissions
from helpcenter.paging import with_neighbour_queries
from tickets import console_forms as forms
from tickets import presence, selectors, services
from tickets.lifecycle import ACTIVE_STATUSES, ActorKind, Status, allowed_transitions
from tickets.models import (
    FieldType,
    Priority,
    SlaPolicy,
    SlaStage,
    SlaTarget,
    Team,
    Ticket,
    TicketCategory,
    TicketEvent,
)
from tickets.networks import explorer_address_url, explorer_tx_url
from tickets.permissions import WORK_PERMISSION, actor_kind_for, tickets_workable_by


def agent_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """403 without `tickets.work_tickets`; the user's permissions come from the cache."""
    checked = permission_required(WORK_PERMISSION, raise_exception=True)(view)

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        load_cached_permissions(request.user)
        return checked(request, *args, **kwargs)

    return wrapper


OTHER_TICKETS_SHOWN = 10
# How long an agent's sidebar counts are reused.
COUNTS_SECONDS = 30
# Served by the customer pages (tickets.urls), which check the same rules for
# agents. Looked up leniently: without them the console lists file names only.
ATTACHMENT_URL = "tickets:attachment"
ATTACHMENT_THUMBNAIL_URL = "tickets:attachment_thumb"


# ----------------------------------------------------------------------------
# Inbox
# ----------------------------------------------------------------------------


@agent_required
@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    agent_list = forms.agent_choices()
    teams, categories = list(Team.objects.all()), list(TicketCategory.objects.all())
    form = forms.InboxFilterForm(
        request.GET, agent_list=agent_list, teams=teams, categories=categories
    )
    form.is_valid()  # Invalid filters are shown with their errors and ignored.
    data = form.cleaned_data
    view = data.get("view") or selectors.InboxView.MINE
    sort = data.get("sort") or selectors.inbox_default_sort(view)
    # One instant for the "at risk" list and the rows' countdowns, so they agree.
    now = timezone.now()
    tickets = selectors.agent_inbox(
        request.user,
        view=view,
        status=data.get("status") or None,
        priority=data.get("priority"),
        team=data.get("team"),
        category=data.get("category"),
        assignee=data.get("assignee"),
        language=data.get("language") or None,
        query=data.get("q", ""),
        sort=sort,
        now=now,
    )
    per_page = data.get("per_page") or forms.PAGE_SIZES[0]
    page = with_neighbour_queries(
        selectors.TicketPaginator(tickets, per_page).get_page(request.GET.get("page")), request
    )
    sla_texts = SlaTexts()
    page.object_list = _inbox_rows(
        page.object_list, teams=teams, categories=categories, now=now, sla_texts=sla_texts
    )
    counts = _inbox_counts(request.user)
    # "By team" and "by category" are the active requests of one team or category.
    by = {"view": selectors.InboxView.ALL, "status": selectors.ACTIVE, "team": "", "category": ""}
    return render(
        request,
        "tickets/console/inbox.html",
        {
            "filter_form": form,
            "bulk_form": forms.BulkForm(agent_list=agent_list),
            "page": page,
            "view": view,
            "view_label": selectors.InboxView(view).label,
            "views": [
                (value, label, counts.views.get(value), _query(request, view=value))
                for value, label in selectors.InboxView.choices
            ],
            "teams": [
                (team, count, _query(request, **{**by, "team": team.pk}))
                for team, count in counts.teams
            ],
            "categories": [
                (category, count, _query(request, **{**by, "category": category.pk}))
                for category, count in counts.categories
            ],
            # The sortable columns.
            "sorts": {value: _query(request, sort=value) for value in selectors.InboxSort.values},
            "sort": sort,
            "urgent": Priority.URGENT,
            "filtered": any(
                request.GET.get(name)
                for name in ("q", "status", "priority", "team", "category", "assignee", "language")
            ),
            "sla_texts": sla_texts.for_script(),
        },
    )


@dataclass(frozen=True)
class Moment:
    """A time as an inbox row shows it: what the `date:'c'`, `date:'SHORT_DATETIME_FORMAT'`
    and `timesince` filters would print."""

    iso: str
    text: str
    since: str


class _Unit:
    """One of timesince()'s units ("%(num)d days"), translated once per count and page.

    timesince() translates its units anew on every call: on a 100-row page,
    about 400 translations of the same few strings.
    """

    def __init__(self, text) -> None:
        self.text = text
        self.translated: dict[int, str] = {}

    def __mod__(self, values: dict[str, int]) -> str:
        count = values["num"]
        if count not in self.translated:
            self.translated[count] = self.text % values
        return self.translated[count]


class _DateText:
    """What `date:'SHORT_DATETIME_FORMAT'` prints, the format read once a page.

    `dateformat.format()` reads its format string anew for every value, most
    of its time: the same pieces are put together here from the same methods.
    """

    def __init__(self) -> None:
        # (a DateFormat method, or None and the text between them)
        self.pieces = [
            (piece, "") if index % 2 else (None, re_escaped.sub(r"\1", piece))
            for index, piece in enumerate(re_formatchars.split(get_format("SHORT_DATETIME_FORMAT")))
            if piece
        ]

    def __call__(self, value: datetime.datetime) -> str:
        formatter = dateformat.DateFormat(value)
        return "".join(
            str(getattr(formatter, method)()) if method else text for method, text in self.pieces
        )


def _moment(value, now, zone, date_text: _DateText, units: dict[str, _Unit]) -> Moment:
    local = timezone.localtime(value, zone)
    return Moment(local.isoformat(), date_text(local), timesince(value, now, time_strings=units))


@dataclass(frozen=True)
class SlaClock:
    """A deadline as the console shows it (`tickets/console/_sla_clock.html`).

    With `due_iso`, tickets-console.js counts `text` down by the browser's
    clock and moves `state` on at `warn_iso` and `due_iso`; without
    JavaScript the page keeps what was true when it was rendered.
    """

    state: str  # "ok", "at_risk", "breached", "paused" or "none" (a CSS class)
    label: str  # the state in words, read before the time (visually hidden)
    text: str  # "2 h 13 min", "overdue 12 min", "Paused — waiting on customer", "—"
    due_iso: str = ""  # empty when no deadline runs: nothing to count down
    warn_iso: str = ""  # empty when its warning point is not known


def _deadline_state(
    due: datetime.datetime, warn: datetime.datetime | None, now: datetime.datetime
) -> str:
    # As selectors.sla_state judges a running deadline, and tickets-console.js after it.
    if due <= now:
        return "breached"
    return "at_risk" if warn is not None and warn <= now else "ok"


def _script_iso(value: datetime.datetime) -> str:
    # Milliseconds at most: the precision JavaScript's Date.parse() is specified for.
    return value.isoformat(timespec="milliseconds")


class SlaTexts:
    """The countdowns' words in the active language, translated once a page.

    tickets-console.js receives the same strings (`for_script`) and builds the
    same text from them, so the page does not change when the script starts.
    """

    def __init__(self) -> None:
        self.labels = {
            "ok": _("On track"),
            "at_risk": _("At risk"),
            "breached": _("Breached"),
        }
        self.days = _("%(days)d d %(hours)d h")
        self.hours = _("%(hours)d h %(minutes)d min")
        self.minutes = _("%(minutes)d min")
        self.overdue = _("overdue %(time)s")
        self.paused = _("Paused — waiting on customer")

    def for_script(self) -> dict[str, Any]:
        return {
            "labels": self.labels,
            "days": self.days,
            "hours": self.hours,
            "minutes": self.minutes,
            "overdue": self.overdue,
        }

    def left(self, remaining: datetime.timedelta) -> str:
        """ "2 h 13 min", or "overdue 12 min" once `remaining` is not positive."""
        seconds = remaining.total_seconds()
        # Whole minutes, rounded up: "1 min" is the last minute before the deadline
        # (and the first after it), never "0 min".
        minutes = max(1, math.ceil(abs(seconds) / 60))
        days, minutes = divmod(minutes, 24 * 60)
        hours, minutes = divmod(minutes, 60)
        if days:
            text = self.days % {"days": days, "hours": hours}
        elif hours:
            text = self.hours % {"hours": hours, "minutes": minutes}
        else:
            text = self.minutes % {"minutes": minutes}
        return text if seconds > 0 else self.overdue % {"time": text}

    def running(
        self, due: datetime.datetime, warn: datetime.datetime | None, now: datetime.datetime
    ) -> SlaClock:
        state = _deadline_state(due, warn, now)
        return SlaClock(
            state=state,
            label=self.labels[state],
            text=self.left(due - now),
            due_iso=_script_iso(due),
            warn_iso=_script_iso(warn) if warn is not None else "",
        )

    def for_ticket(self, ticket: Any, now: datetime.datetime) -> SlaClock:
        """The countdown to `ticket`'s nearest deadline: a Ticket, or an inbox row read
        with the columns `selectors.sla_state` uses."""
        state = selectors.sla_state(ticket, now)
        if state is None:
            return SlaClock(state="none", label="", text="—")
        if state == "paused":
            return SlaClock(state="paused", label="", text=self.paused)
        return self.running(ticket.sla_due_at, ticket.sla_warn_at, now)


@dataclass(frozen=True)
class InboxRow:
    """A request as its inbox row shows it (`templatetags.tickets_console.inbox_rows`)."""

    reference: str
    subject: str
    priority: int
    status: str
    language: str
    category: TicketCategory
    team: Team | None
    requester: str  # their full name
    assignee: str | None  # their short name; None while unassigned
    workspace_url: str
    created: Moment
    updated: Moment
    sla: SlaClock


# What a row shows, read as plain values: instances of each request and its two
# users would cost as much again as the whole query, and a request's
# description and fields are not shown here. The SLA columns are the ones
# `selectors.sla_state` reads.
_ROW_COLUMNS = (
    *("reference", "subject", "priority", "status", "language", "category_id", "team_id"),
    *("created_at", "updated_at", "requester__display_name", "requester__email"),
    *("assignee_id", "assignee__display_name", "assignee__email"),
    *("sla_policy_id", "sla_due_at", "sla_warn_at"),
)
# Stands for a reference in the workspace URL, reversed once a page.
_URL_SLOT = "HD-SLOT"


def _inbox_rows(
    tickets: QuerySet[Ticket],
    *,
    teams: list[Team],
    categories: list[TicketCategory],
    now: datetime.datetime,
    sla_texts: SlaTexts,
) -> list[InboxRow]:
    """The page's requests as rows, with their category and team from the lists the
    filters show, their workspace link, their two times and their SLA countdown at `now`.

    Worked out here: the same `{% url %}`, `date` and `timesince` through the
    template engine cost about twice as much, on 25–100 rows a page.
    """
    teams_by_pk = {team.pk: team for team in teams}
    categories_by_pk = {category.pk: category for category in categories}
    # As the `date:'SHORT_DATETIME_FORMAT'` and `timesince` filters print them.
    zone, date_text = timezone.get_current_timezone(), _DateText()
    units = {name: _Unit(text) for name, text in TIME_STRINGS.items()}
    # One reverse() for the page: references are [A-Z0-9-], which a URL keeps as they are.
    before, after = reverse("tickets_console:workspace", args=[_URL_SLOT]).split(_URL_SLOT)
    rows = []
    for ticket in tickets.values_list(*_ROW_COLUMNS, named=True):
        category = categories_by_pk.get(ticket.category_id)
        team = teams_by_pk.get(ticket.team_id)
        # A category or team created since the lists were read is fetched on its own.
        if category is None:
            category = TicketCategory.objects.get(pk=ticket.category_id)
        if team is None and ticket.team_id is not None:
            team = Team.objects.filter(pk=ticket.team_id).first()
        rows.append(
            InboxRow(
                reference=ticket.reference,
                subject=ticket.subject,
                priority=ticket.priority,
                status=ticket.status,
                language=ticket.language,
                category=category,
                team=team,
                # As User.get_full_name() and get_short_name() put them.
                requester=ticket.requester__display_name or ticket.requester__email,
                assignee=(
                    ticket.assignee__display_name or ticket.assignee__email.split("@", 1)[0]
                    if ticket.assignee_id
                    else None
                ),
                workspace_url=f"{before}{ticket.reference}{after}",
                created=_moment(ticket.created_at, now, zone, date_text, units),
                updated=_moment(ticket.updated_at, now, zone, date_text, units),
                sla=sla_texts.for_ticket(ticket, now),
            )
        )
    return rows


def _counts_key(user) -> str:
    return f"tickets:console:counts:{user.pk}"


def _inbox_counts(user) -> selectors.InboxCounts:
    """The sidebar's counts, kept `COUNTS_SECONDS`: they scan every active request the
    agent may see, the most expensive part of the page on a large queue."""
    counts = cache.get(_counts_key(user))
    if counts is None:
        counts = selectors.inbox_counts(user)
        cache.set(_counts_key(user), counts, COUNTS_SECONDS)
    return counts


def _forget_counts(user) -> None:
    """After an agent's own change their counts are recomputed (others' may lag a little)."""
    cache.delete(_counts_key(user))


def _query(request: HttpRequest, **changes) -> str:
    """The inbox's current query string with `changes` applied (empty removes) and page 1."""
    query = request.GET.copy()
    query.pop("page", None)
    for name, value in changes.items():
        if value in ("", None):
            query.pop(name, None)
        else:
            query[name] = str(value)
    return query.urlencode()


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("tickets_console:inbox")


@agent_required
@require_POST
def bulk(request: HttpRequest) -> HttpResponse:
    """Apply one change to each selected request, each through its service at its own
    current version; report which requests refused and why."""
    form = forms.BulkForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(_form_messages(form)))
        return redirect(_safe_next(request))
    data = form.cleaned_data
    references = data["tickets"]
    found = {
        ticket.reference: ticket
        for ticket in tickets_workable_by(request.user)
        .select_related("assignee", "team", "category", "requester")
        .filter(reference__in=references)
    }
    action = _bulk_action(request, data)
    changed, unchanged, refused = [], [], []
    for reference in references:
        ticket = found.get(reference)
        if ticket is None:
            refused.append((reference, _("not found")))
            continue
        before = ticket.version
        try:
            action(ticket)
        except ValidationError as exc:
            refused.append((reference, " ".join(exc.messages)))
        except PermissionDenied:
            refused.append((reference, _("you cannot change this request")))
        else:
            if ticket.version == before:
                unchanged.append(reference)
            else:
                changed.append(reference)
    if changed:
        _forget_counts(request.user)
    _report_bulk(request, changed, unchanged, refused)
    return redirect(_safe_next(request))


def _bulk_action(request: HttpRequest, data: dict):
    user = request.user
    match data["action"]:
        case forms.BulkForm.ASSIGN_TO_ME | forms.BulkForm.ASSIGN | forms.BulkForm.UNASSIGN as act:
            assignee = {
                forms.BulkForm.ASSIGN_TO_ME: user,
                forms.BulkForm.ASSIGN: data.get("assignee"),
                forms.BulkForm.UNASSIGN: None,
            }[act]
            return lambda ticket: services.ticket_assign(
                ticket=ticket, actor=user, assignee=assignee, expected_version=ticket.version
            )
        case _:
            return lambda ticket: services.ticket_change_status(
                ticket=ticket, actor=user, to_status=data["status"], expected_version=ticket.version
            )


def _report_bulk(request, changed: list, unchanged: list, refused: list) -> None:
    if changed:
        messages.success(
            request,
            ngettext(
                "%(count)d request changed: %(references)s.",
                "%(count)d requests changed: %(references)s.",
                len(changed),
            )
            % {"count": len(changed), "references": ", ".join(changed)},
        )
    if unchanged:
        messages.info(
            request,
            _("Already so, nothing to change: %(references)s.")
            % {"references": ", ".join(unchanged)},
        )
    if refused:
        messages.error(
            request,
            _("Not changed: %(reasons)s")
            % {"reasons": "; ".join(f"{reference}: {reason}" for reference, reason in refused)},
        )


def _form_messages(form) -> list[str]:
    return [str(error) for errors in form.errors.values() for error in errors]


# ----------------------------------------------------------------------------
# Workspace
# ----------------------------------------------------------------------------


@dataclass(frozen=True)
class DetailRow:
    label: str
    value: str
    explorer_url: str | None = None


def _detail_rows(ticket: Ticket, form_fields: list) -> list[DetailRow]:
    """The request's structured details, TXIDs and addresses linked to their explorer."""
    values = ticket.fields or {}
    network = next(
        (values.get(f.key) for f in form_fields if f.field_type == FieldType.NETWORK), None
    )
    rows = []
    for field in form_fields:
        value = values.get(field.key)
        if not value:
            continue
        url = None
        if network and field.field_type == FieldType.TXID:
            url = explorer_tx_url(network, value)
        elif network and field.field_type == FieldType.ADDRESS:
            url = explorer_address_url(network, value)
        rows.append(DetailRow(field.label_for(None), value, url))
    known = {field.key for field in form_fields}
    # Kept from an earlier category: shown as stored.
    rows.extend(DetailRow(key, value) for key, value in values.items() if key not in known)
    return rows


def _url_or_none(name: str, attachment) -> str | None:
    try:
        return reverse(name, args=[attachment.uuid])
    except NoReverseMatch:
        return None


def _label(choices, value) -> str:
    if value is None or value == "":
        return "—"
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value)


def _snapshot_name(value) -> str:
    return value.get("name", "—") if isinstance(value, dict) else _("nobody")


def _event_change(event: TicketEvent, names: dict[tuple[str, str], str]) -> str:
    """One line saying what an event changed (values are snapshots, see TicketEvent).

    `names` maps (kind, slug) of teams and categories to their current names;
    a slug whose row is gone is shown as it was recorded.
    """
    old, new = event.old_value, event.new_value
    kind = TicketEvent.Kind
    match event.kind:
        case kind.STATUS | kind.REOPENED:
            return f"{_label(Status, old)} → {_label(Status, new)}"
        case kind.PRIORITY:
            return f"{_label(Priority, old)} → {_label(Priority, new)}"
        case kind.ASSIGNEE:
            return f"{_snapshot_name(old)} → {_snapshot_name(new)}"
        case kind.TEAM | kind.CATEGORY:
            old, new = (names.get((event.kind, v), v) if v else "—" for v in (old, new))
            return f"{old} → {new}"
        case kind.FIELDS:
            old, new = old or {}, new or {}
            return "; ".join(
                f"{key}: {old.get(key) or '—'} → {new.get(key) or '—'}" for key in sorted(new)
            )
        case kind.MERGED | kind.MERGED_FROM | kind.FOLLOW_UP:
            return new or ""
        case kind.RATED:
            return str(new or "")
    return ""


_REFERENCE_EVENTS = frozenset(
    {TicketEvent.Kind.MERGED, TicketEvent.Kind.MERGED_FROM, TicketEvent.Kind.FOLLOW_UP}
)


def _slug_names(entries: list) -> dict[tuple[str, str], str]:
    """Current names of the teams and categories the events name by slug (≤ 2 queries)."""
    slugs: dict[str, set[str]] = {TicketEvent.Kind.TEAM: set(), TicketEvent.Kind.CATEGORY: set()}
    for entry in entries:
        if entry.event is not None and entry.event.kind in slugs:
            slugs[entry.event.kind].update(
                v for v in (entry.event.old_value, entry.event.new_value) if isinstance(v, str)
            )
    names = {}
    for kind, model in ((TicketEvent.Kind.TEAM, Team), (TicketEvent.Kind.CATEGORY, TicketCategory)):
        if slugs[kind]:
            names.update(
                {(kind, row.slug): row.name for row in model.objects.filter(slug__in=slugs[kind])}
            )
    return names


def _timeline(ticket: Ticket) -> list:
    entries = selectors.ticket_timeline(ticket, for_customer=False)
    names = _slug_names(entries)
    for entry in entries:
        if entry.message is not None:
            for attachment in entry.message.attachments.all():
                attachment.console_url = _url_or_none(ATTACHMENT_URL, attachment)
                attachment.console_thumbnail_url = (
                    _url_or_none(ATTACHMENT_THUMBNAIL_URL, attachment)
                    if attachment.thumbnail
                    else None
                )
        else:
            event = entry.event
            event.change = _event_change(event, names)
            event.link_reference = (
                event.new_value
                if event.kind in _REFERENCE_EVENTS and isinstance(event.new_value, str)
                else None
            )
    return entries


@dataclass(frozen=True)
class SlaTargetLine:
    """A running target in the workspace's SLA panel."""

    label: str  # "First response", …
    due_at: datetime.datetime
    clock: SlaClock


@dataclass(frozen=True)
class SlaHistoryLine:
    """A target that reached "at risk", was breached or was met."""

    target: str
    outcome: str
    at: datetime.datetime


@dataclass(frozen=True)
class SlaPanel:
    policy: SlaPolicy | None
    paused: bool
    targets: list[SlaTargetLine]
    history: list[SlaHistoryLine]


_TARGET_COLUMNS = (
    (SlaTarget.FIRST_RESPONSE, "first_response_due_at"),
    (SlaTarget.NEXT_RESPONSE, "next_response_due_at"),
    (SlaTarget.RESOLUTION, "resolution_due_at"),
)


def _sla_panel(ticket: Ticket, now: datetime.datetime, texts: SlaTexts) -> SlaPanel:
    """The request's SLA: its policy, each running target, and what happened so far.

    Two queries: the policy and the milestones the sweep recorded. Only the
    nearest deadline has a stored warning point (`sla_warn_at`); a later target
    goes from "on track" to "breached", as the sweep only warns about the nearest.
    """
    policy = ticket.sla_policy
    targets = []
    warn_shown = False
    if ticket.status in ACTIVE_STATUSES:
        for target, column in _TARGET_COLUMNS:
            due = getattr(ticket, column)
            if due is None:
                continue
            nearest = not warn_shown and due == ticket.sla_due_at
            warn_shown = warn_shown or nearest
            clock = texts.running(due, ticket.sla_warn_at if nearest else None, now)
            targets.append(SlaTargetLine(str(target.label), due, clock))
    milestones = list(ticket.sla_milestones.all())
    history = [
        SlaHistoryLine(m.get_target_display(), m.get_stage_display(), m.created_at)
        for m in milestones
    ]
    breached = {m.target for m in milestones if m.stage == SlaStage.BREACH}
    # Met: answered or solved with that target in the policy and no breach recorded.
    met = [
        (SlaTarget.FIRST_RESPONSE, "first_response_minutes", ticket.first_response_at),
        (
            SlaTarget.RESOLUTION,
            "resolution_minutes",
            ticket.solved_at if ticket.status not in ACTIVE_STATUSES else None,
        ),
    ]
    for target, minutes, at in met:
        if policy is not None and getattr(policy, minutes) and at and target not in breached:
            history.append(SlaHistoryLine(str(target.label), _("Met"), at))
    history.sort(key=lambda line: line.at)
    return SlaPanel(
        policy=policy,
        paused=selectors.sla_state(ticket, now) == "paused",
        targets=targets,
        history=history,
    )


def _render_workspace(
    request: HttpRequest,
    ticket: Ticket,
    *,
    bound: dict | None = None,
    conflict: bool = False,
    status: int = 200,
    reply_initial: str = "",
) -> HttpResponse:
    """The workspace of `ticket`; forms in `bound` (by name) replace the blank ones."""
    bound = bound or {}
    user = request.user
    form_fields = list(ticket.category.form_fields.all())
    macros = [
        (macro, selectors.macro_render(macro, ticket=ticket, agent=user))
        for macro in selectors.macros_for(user, language=ticket.language)
    ]
    kind = actor_kind_for(user, ticket)
    forms_ = {
        "reply": forms.ReplyForm(initial={"body": reply_initial}),
        "priority": forms.PriorityForm(initial={"priority": ticket.priority}),
        "assign": forms.AssignForm(ticket=ticket, user=user),
        "team": forms.TeamForm(initial={"team": ticket.team_id}),
        "category": forms.CategoryForm(initial={"category": ticket.category_id}),
        "fields": forms.FieldsForm(form_fields=form_fields, values=ticket.fields or {}),
        "merge": forms.MergeForm(),
        **bound,
    }
    sla_texts = SlaTexts()
    other_tickets = list(
        tickets_workable_by(user)
        .filter(requester_id=ticket.requester_id)
        .exclude(pk=ticket.pk)
        .select_related("category")
        .order_by("-created_at", "-pk")[: OTHER_TICKETS_SHOWN + 1]
    )
    return render(
        request,
        "tickets/console/workspace.html",
        {
            "ticket": ticket,
            "timeline": _timeline(ticket),
            "details": _detail_rows(ticket, form_fields),
            "forms": forms_,
            "macros": macros,
            "transitions": [
                (code, Status(code).label) for code in allowed_transitions(ticket, kind)
            ],
            "acting_as_customer": kind == ActorKind.CUSTOMER,
            "other_tickets": other_tickets[:OTHER_TICKETS_SHOWN],
            "more_other_tickets": len(other_tickets) > OTHER_TICKETS_SHOWN,
            "conflict": conflict,
            "has_errors": status >= 400 and not conflict,
            "urgent": Priority.URGENT,
            "sla": _sla_panel(ticket, timezone.now(), sla_texts),
            "sla_texts": sla_texts.for_script(),
            "presence": {
                "heartbeat": presence.HEARTBEAT_SECONDS,
                "ws_path": f"/ws/console/tickets/{ticket.reference}/",
            },
        },
        status=status,
    )


@agent_required
@require_GET
def workspace(request: HttpRequest, reference: str) -> HttpResponse:
    ticket = selectors.ticket_for_agent(request.user, reference)
    reply_initial = ""
    macro_id = request.GET.get("macro", "")
    if macro_id.isdigit():
        # Without JavaScript, "Insert" reloads the page with the macro in the reply box.
        macro = selectors.macros_for(request.user, language=ticket.language).filter(pk=macro_id)
        reply_initial = next(
            (selectors.macro_render(m, ticket=ticket, agent=request.user) for m in macro), ""
        )
    return _render_workspace(request, ticket, reply_initial=reply_initial)


def _apply(request: HttpRequest, ticket: Ticket, name: str, form, perform, success: str):
    """Run `perform(cleaned_data)` for a valid `form`, then redirect to the workspace.

    `name` is the form's key in the workspace, where it is shown again, bound,
    with the service's error when anything refuses (400), or over the request
    as it is now when someone else changed it meanwhile (409).
    """
    before = ticket.version
    if form.is_valid():
        try:
            perform(form.cleaned_data)
        except services.ConcurrentChangeError:
            current = selectors.ticket_for_agent(request.user, ticket.reference)
            return _render_workspace(
                request, current, bound={name: form}, conflict=True, status=409
            )
        except ValidationError as exc:
            _add_service_error(form, exc)
        else:
            if ticket.version == before:
                messages.info(request, _("That was already so; nothing changed."))
            else:
                _forget_counts(request.user)
                messages.success(request, success)
            return redirect("tickets_console:workspace", reference=ticket.reference)
    return _render_workspace(request, ticket, bound={name: form}, status=400)


def _add_service_error(form, exc: ValidationError) -> None:
    if hasattr(form, "add_service_error"):
        form.add_service_error(exc)
    elif hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


@agent_required
@require_POST
def change_status(request: HttpRequest, reference: str) -> HttpResponse:
    ticket = selectors.ticket_for_agent(request.user, reference)
    return _apply(
        request,
        ticket,
        "status",
        forms.StatusForm(request.POST),
        lambda data: services.ticket_change_status(
            ticket=ticket,
            actor=request.user,
            to_status=data["status"],
            expected_version=data["version"],
        ),
        _("Status changed."),
    )


@agent_required
@require_POST
def change_priority(request: HttpRequest, reference: str) -> HttpResponse:
    ticket = selectors.ticket_for_agent(request.user, reference)
    return _apply(
        request,
        ticket,
        "priority",
        forms.PriorityForm(request.POST),
        lambda data: services.ticket_set_priority(
            ticket=ticket,
            actor=request.user,
            priority=data["priority"],
            expected_version=data["version"],
        ),
        _("Priority changed."),
    )


@agent_required
@require_POST
def assign(request: HttpRequest, reference: str) -> HttpResponse:
    ticket = selectors.ticket_for_agent(request.user, reference)
    return _apply(
        request,
        ticket,
        "assign",
        forms.AssignForm(request.POST, ticket=ticket, user=request.user),
        lambda data: services.ticket_assign(
            ticket=ticket,
            actor=request.user,
            assignee=request.user if data["to_me"] else data["assignee"],
            expected_version=data["version"],
        ),
        _("Assignee changed."),
    )


@agent_required
@require_POST
def change_team(request: HttpRequest, reference: str) -> HttpResponse:
    ticket = selectors.ticket_for_agent(request.user, reference)
    return _apply(
        request,
        ticket,
        "team",
        forms.TeamForm(request.POST),
        lambda data: services.ticket_set_team(
            ticket=ticket, actor=request.user, team=data["team"], expected_version=data["version"]
        ),
        _("Team changed."),
    )


@agent_required
@require_POST
def change_category(request: HttpRequest, reference: str) -> HttpResponse:
    ticket = selectors.ticket_for_agent(request.user, reference)
    return _apply(
        request,
        ticket,
        "category",
        forms.CategoryForm(request.POST),
        lambda data: services.ticket_change_category(
            ticket=ticket,
            actor=request.user,
            category=data["category"],
            expected_version=data["version"],
        ),
        _("Category changed."),
    )


@agent_required
@require_POST
def update_fields(request: HttpRequest, reference: str) -> HttpResponse:
    ticket = selectors.ticket_for_agent(request.user, reference)
    form = forms.FieldsForm(
        request.POST,
        form_fields=list(ticket.category.form_fields.all()),
        values=ticket.fields or {},
    )
    return _apply(
        request,
        ticket,
        "fields",
        form,
        lambda data: services.ticket_update_fields(
            ticket=ticket,
            actor=request.user,
            values=form.values(),
            expected_version=data["version"],
        ),
        _("Details saved."),
    )


@agent_required
@require_POST
def reply(request: HttpRequest, reference: str) -> HttpResponse:
    """Post a public reply or an internal note, with attachments.

    Messages never overwrite anything, so a reply is not refused for being
    written on an older version of the page (the live "also viewing / typing"
    notice is what prevents two answers). Files are kept only if the reply is.
    """
    ticket = selectors.ticket_for_agent(request.user, reference)
    form = forms.ReplyForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            with services.stored_attachments(
                form.cleaned_data["attachments"], uploaded_by=request.user
            ) as attachments:
                services.ticket_reply(
                    ticket=ticket,
                    author=request.user,
                    body=form.cleaned_data["body"],
                    internal=form.is_internal,
                    attachments=attachments,
                )
        except ValidationError as exc:
            _add_service_error(form, exc)
        else:
            _forget_counts(request.user)
            messages.success(
                request, _("Internal note added.") if form.is_internal else _("Reply sent.")
            )
            return redirect("tickets_console:workspace", reference=ticket.reference)
    return _render_workspace(request, ticket, bound={"reply": form}, status=400)


@agent_required
@require_POST
def merge(request: HttpRequest, reference: str) -> HttpResponse:
    """Merge this request into another: a confirmation page first, then the merge."""
    source = selectors.ticket_for_agent(request.user, reference)
    form = forms.MergeForm(request.POST)
    target = None
    if form.is_valid():
        try:
            target = selectors.ticket_for_agent(request.user, form.cleaned_data["target"])
        except Http404:
            # The same answer for "no such request" and "not one you may work on".
            form.add_error("target", _("No request with this reference that you can work on."))
    if target is not None and form.cleaned_data["version"] != source.version:
        # ticket_merge takes no version: compare here, so the agent merges what they saw.
        return _render_workspace(request, source, bound={"merge": form}, conflict=True, status=409)
    if target is not None and not form.cleaned_data["confirm"]:
        return render(
            request,
            "tickets/console/merge_confirm.html",
            {"source": source, "target": target, "form": form},
        )
    if target is not None:
        try:
            services.ticket_merge(source=source, target=target, actor=request.user)
        except ValidationError as exc:
            _add_service_error(form, exc)
        else:
            _forget_counts(request.user)
            messages.success(
                request,
                _("%(source)s was merged into %(target)s.")
                % {"source": source.reference, "target": target.reference},
            )
            return redirect("tickets_console:workspace", reference=target.reference)
    return _render_workspace(request, source, bound={"merge": form}, status=400)
