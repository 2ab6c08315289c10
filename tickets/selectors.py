"""Reads for request pages, the agent inbox and the API.

Lookups go through `tickets.permissions`; a request the user may not see
raises Http404, the same as one that does not exist. Lists return querysets
with their related rows joined, so a page costs the same number of queries
whatever its size.
"""

from __future__ import annotations

import datetime
import heapq
import re
import statistics
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.db import models
from django.db.models import Case, Count, Exists, F, OuterRef, Prefetch, Q, QuerySet, Value, When
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.models import User
from tickets.lifecycle import ACTIVE_STATUSES, Status
from tickets.models import (
    REFERENCE_ALPHABET,
    REFERENCE_PREFIX,
    REFERENCE_RE,
    Attachment,
    FieldType,
    IdentifierKind,
    Macro,
    Message,
    Priority,
    SlaMilestone,
    SlaStage,
    SlaTarget,
    Team,
    TeamMembership,
    Ticket,
    TicketCategory,
    TicketEvent,
    TicketField,
    TicketIdentifier,
)
from tickets.permissions import (
    agent_queues_q,
    agent_scope_q,
    is_agent,
    is_ticket_supervisor,
    tickets_workable_by,
)

_LIST_RELATED = ("requester", "category", "team", "assignee")


def _normalise_reference(reference: str) -> str | None:
    reference = (reference or "").strip().upper()
    return reference if REFERENCE_RE.fullmatch(reference) else None


# Single requests ---------------------------------------------------------------------


def ticket_for_customer(user: User, reference: str) -> Ticket:
    """The requester's own request by reference; Http404 for anyone else's."""
    normalised = _normalise_reference(reference)
    if normalised is None or not user.is_authenticated or not user.is_active:
        raise Http404
    try:
        return Ticket.objects.select_related(
            "category", "merged_into", "follow_up_of", "sla_policy"
        ).get(requester=user, reference=normalised)
    except Ticket.DoesNotExist as exc:
        raise Http404 from exc


def ticket_for_agent(user: User, reference: str) -> Ticket:
    """A request `user` may work on as an agent; Http404 when outside their scope."""
    normalised = _normalise_reference(reference)
    if normalised is None or not is_agent(user):
        raise Http404
    try:
        return (
            tickets_workable_by(user)
            .select_related(*_LIST_RELATED, "merged_into", "follow_up_of")
            .get(reference=normalised)
        )
    except Ticket.DoesNotExist as exc:
        raise Http404 from exc


# Lists -------------------------------------------------------------------------------

ACTIVE = "active"


# In a fixed order: the same SQL text every time (ACTIVE_STATUSES is a frozenset).
_ACTIVE = tuple(sorted(ACTIVE_STATUSES))


def customer_tickets(user: User, *, status: str | None = None, query: str = "") -> QuerySet[Ticket]:
    """The user's own requests, most recent activity first.

    `status` is a status code, "active" (new, open or waiting), or None or ""
    for all. `query` matches words in the subject, and whatever the agents'
    search box finds (`ticket_search_q`): a reference, a TXID, address or
    order id quoted in the request. Always within the user's own requests.
    """
    tickets = Ticket.objects.filter(requester=user).select_related("category")
    if status == ACTIVE:
        tickets = tickets.filter(status__in=_ACTIVE)
    elif status:
        tickets = tickets.filter(status=status)
    query = query.strip()
    if query:
        # The subject always counts, also for one-token searches such as "TRC20"
        # that ticket_search_q reads as an identifier.
        condition = Q(subject__icontains=query)
        search = ticket_search_q(query)
        if search is not None:
            condition |= search
        tickets = tickets.filter(condition)
    return tickets.order_by("-updated_at", "-pk")


class InboxView(models.TextChoices):
    MINE = "mine", _("Assigned to me")
    UNASSIGNED = "unassigned", _("Unassigned")
    OPEN = "open", _("New and open")
    WAITING = "waiting", _("Waiting on customer")
    URGENT = "urgent", _("Urgent")
    ATTENTION = "attention", _("At risk or breached")
    TEAM = "team", _("My teams")
    ALL = "all", _("All")


class InboxSort(models.TextChoices):
    PRIORITY = "priority", _("Priority")
    AGE = "age", _("Oldest first")
    UPDATED = "updated", pgettext_lazy("inbox sort order", "Recently updated")
    SLA = "sla", _("Time to breach")


# "Time to breach" for the inbox: the nearest deadline first (overdue ones lead),
# requests without a running deadline last.
SLA_ORDERING = (F("sla_due_at").asc(nulls_last=True), "pk")

_SORTS = {
    InboxSort.PRIORITY: ("-priority", "created_at", "pk"),
    InboxSort.AGE: ("created_at", "pk"),
    InboxSort.UPDATED: ("-updated_at", "-pk"),
    InboxSort.SLA: SLA_ORDERING,
}


def inbox_default_sort(view: str) -> str:
    """The sort of an inbox view when none is chosen: the SLA view's point is what breaches next."""
    return InboxSort.SLA if view == InboxView.ATTENTION else InboxSort.PRIORITY


def _view_q(user: User, view: str, now: datetime.datetime) -> Q:
    active = Q(status__in=_ACTIVE)
    match view:
        case InboxView.MINE:
            return active & Q(assignee=user)
        case InboxView.UNASSIGNED:
            return active & Q(assignee__isnull=True)
        case InboxView.OPEN:
            return Q(status__in=(Status.NEW, Status.OPEN))
        case InboxView.WAITING:
            return Q(status=Status.WAITING)
        case InboxView.URGENT:
            return active & Q(priority=Priority.URGENT)
        case InboxView.ATTENTION:
            return sla_attention_q(now)
        case InboxView.TEAM:
            return active & Q(team__in=TeamMembership.objects.filter(user=user).values("team"))
        case InboxView.ALL:
            return Q()
    raise ValueError(f"Unknown inbox view {view!r}")


def _inbox_scope(user: User, view: str) -> Q:
    """The part of the agent rule (`permissions.agent_scope_q`) an inbox view still needs.

    Supervisors need none. "Mine" (assigned to the agent) and "my teams" lie
    inside the rule by definition; "unassigned" can only match its queue half.
    Leaving out what cannot narrow the list spares the database an OR across
    columns that it would otherwise evaluate for every candidate row.
    """
    if is_ticket_supervisor(user):
        return Q()
    match view:
        case InboxView.MINE | InboxView.TEAM:
            return Q()
        case InboxView.UNASSIGNED:
            return agent_queues_q(user)
    return agent_scope_q(user)


_SPACE = re.compile(r"\s")


def ticket_search_q(query: str) -> Q | None:
    """What an agent's search box means, as a filter that can use an index.

    - an email address: the requester's address;
    - a reference (HD-XXXXXX, or its six characters): that request;
    - one token with a digit (TXID, address, order id, UID): the identifiers
      quoted in requests, or the requester's UID;
    - anything else: words in the subject.
    """
    query = query.strip()
    if not query:
        return None
    # The requester through a subquery on `requester_id`, not a join.
    if "@" in query and not _SPACE.search(query):
        return Q(requester__in=User.objects.filter(email=query.lower()).values("pk"))
    upper = query.upper()
    if REFERENCE_RE.fullmatch(upper):
        return Q(reference=upper)
    # Six characters read out without the HD- prefix ("HPBNGP", "7K3P9Q").
    bare_reference = len(upper) == 6 and set(upper) <= set(REFERENCE_ALPHABET)
    if not _SPACE.search(query) and any(char.isdigit() for char in query):
        value = unicodedata.normalize("NFKC", query).lower()
        # One set of keys (a UNION), not an OR of conditions: PostgreSQL cannot
        # serve `id IN (…) OR requester_id IN (…)` from an index, guesses that
        # most requests match, and walks the whole sorted inbox to fill a page.
        keys = [
            TicketIdentifier.objects.filter(value=value).values("ticket_id"),
            Ticket.objects.filter(requester__uid=value).values("pk"),
        ]
        if bare_reference:
            keys.append(Ticket.objects.filter(reference=REFERENCE_PREFIX + upper).values("pk"))
        return Q(pk__in=keys[0].union(*keys[1:]))
    found = Q(subject__icontains=query)
    if bare_reference:
        found |= Q(reference=REFERENCE_PREFIX + upper)
    return found


def agent_inbox(
    user: User,
    *,
    view: str = InboxView.MINE,
    status: str | None = None,
    priority: int | None = None,
    team: Team | None = None,
    category: TicketCategory | None = None,
    assignee: User | None = None,
    language: str | None = None,
    query: str = "",
    sort: str = InboxSort.PRIORITY,
    now: datetime.datetime | None = None,
) -> QuerySet[Ticket]:
    """An inbox view of the requests `user` may work on, filtered, searched and sorted.

    Filters narrow the view; a search applies within it ("all" searches
    everything the agent may see). `status` may also be "active" (new, open
    or waiting). "At risk or breached" is judged at `now` (default: the
    current time). PermissionDenied for non-agents.
    """
    if not is_agent(user):
        raise PermissionDenied
    if sort not in _SORTS:
        raise ValueError(f"Unknown inbox sort {sort!r}")
    now = now or timezone.now()
    tickets = Ticket.objects.filter(_inbox_scope(user, view), _view_q(user, view, now))
    if status == ACTIVE:
        tickets = tickets.filter(status__in=_ACTIVE)
        status = None
    filters: dict[str, Any] = {
        "status": status,
        "priority": priority,
        "team": team,
        "category": category,
        "assignee": assignee,
        "language": language,
    }
    tickets = tickets.filter(
        **{name: value for name, value in filters.items() if value is not None}
    )
    search = ticket_search_q(query)
    if search is not None:
        tickets = tickets.filter(search)
    return tickets.select_related(*_LIST_RELATED).order_by(*_SORTS[sort])


class TicketPaginator(Paginator):
    """Pages a sorted list of requests, choosing a page's rows before joining them.

    Still one query per page (after the COUNT): the page's keys come from the
    filtered, sorted ticket table alone, an index walk that stops once the page
    is full, and only those rows are read with their related rows joined.
    Asked to filter, join and sort at once, SQLite joins every matching
    request before sorting: about 50 ms for 20,000 open requests, against well
    under a millisecond for the keys. Give it the queryset with its
    `select_related` and `order_by`, as the selectors return it.
    """

    def _get_page(self, object_list, number: int, paginator: Paginator) -> Page:
        tickets = self.object_list
        if isinstance(object_list, QuerySet) and isinstance(tickets, QuerySet):
            # object_list is tickets[bottom:top]; its keys as a subquery.
            rows = tickets.model._default_manager.filter(pk__in=object_list.values("pk"))
            rows.query.select_related = tickets.query.select_related
            object_list = rows.order_by(*tickets.query.order_by)
        return super()._get_page(object_list, number, paginator)


@dataclass(frozen=True)
class InboxCounts:
    """Active requests per inbox view, team and category (the console's sidebar)."""

    views: dict[str, int]
    teams: list[tuple[Team, int]]
    categories: list[tuple[TicketCategory, int]]


def inbox_counts(user: User, *, now: datetime.datetime | None = None) -> InboxCounts:
    """Count the active requests `user` may work on per view, team and category; five queries.

    One pass over the active requests (from an index that holds every column
    it reads) groups them by what the counts tell apart; the sums are done
    here. "At risk or breached" (at `now`, default the current time) is one
    more COUNT on the indexed `sla_warn_at`: in the grouped pass that column
    would make the database read every active request's row, not the index.
    "all" is left out: it also counts solved and closed requests, a number
    nobody acts on. PermissionDenied for non-agents.
    """
    if not is_agent(user):
        raise PermissionDenied
    team_ids = set(TeamMembership.objects.filter(user=user).values_list("team_id", flat=True))
    active = Ticket.objects.filter(status__in=_ACTIVE)
    if not is_ticket_supervisor(user):
        active = active.filter(agent_scope_q(user))
    groups = (
        active.annotate(
            urgent=Case(When(priority=Priority.URGENT, then=Value(1)), default=Value(0)),
            # 0: unassigned, 1: assigned to `user`, 2: to someone else.
            holder=Case(
                When(assignee__isnull=True, then=Value(0)),
                When(assignee=user, then=Value(1)),
                default=Value(2),
            ),
        )
        .values_list("status", "team_id", "category_id", "urgent", "holder")
        .annotate(count=models.Count("pk"))
        .order_by()
    )
    views = {view.value: 0 for view in InboxView if view != InboxView.ALL}
    per_team: dict[int, int] = {}
    per_category: dict[int, int] = {}
    for status, team_id, category_id, urgent, holder, count in groups:
        in_view = {
            InboxView.MINE: holder == 1,
            InboxView.UNASSIGNED: holder == 0,
            InboxView.OPEN: status in (Status.NEW, Status.OPEN),
            InboxView.WAITING: status == Status.WAITING,
            InboxView.URGENT: bool(urgent),
            InboxView.TEAM: team_id in team_ids,
        }
        for view, matches in in_view.items():
            if matches:
                views[view] += count
        if team_id is not None:
            per_team[team_id] = per_team.get(team_id, 0) + count
        per_category[category_id] = per_category.get(category_id, 0) + count
    views[InboxView.ATTENTION] = active.filter(sla_attention_q(now or timezone.now())).count()
    return InboxCounts(
        views=views,
        teams=[(team, per_team[team.pk]) for team in Team.objects.filter(pk__in=per_team)],
        categories=[
            (category, per_category[category.pk])
            for category in TicketCategory.objects.filter(pk__in=per_category)
        ],
    )


# The conversation --------------------------------------------------------------------


@dataclass(frozen=True)
class TimelineEntry:
    kind: Literal["message", "event"]
    created_at: datetime.datetime
    message: Message | None = None
    event: TicketEvent | None = None


def ticket_timeline(ticket: Ticket, *, for_customer: bool) -> list[TimelineEntry]:
    """Messages (with attachments) and events in time order; three queries.

    For the customer: no internal notes and only public events.
    """
    messages = ticket.messages.select_related("author").prefetch_related(
        Prefetch("attachments", queryset=Attachment.objects.order_by("created_at", "pk"))
    )
    events = ticket.events.select_related("actor")
    if for_customer:
        messages = messages.filter(is_internal=False)
        events = events.filter(is_public=True)
    # At the same instant: "created" first, then the message, then what it caused.
    message_entries = (
        ((m.created_at, 1, m.pk), TimelineEntry("message", m.created_at, message=m))
        for m in messages.order_by("created_at", "pk")
    )
    event_entries = (
        (
            (e.created_at, 0 if e.kind == TicketEvent.Kind.CREATED else 2, e.pk),
            TimelineEntry("event", e.created_at, event=e),
        )
        for e in events.order_by("created_at", "pk")
    )
    return [
        entry for _key, entry in heapq.merge(message_entries, event_entries, key=lambda x: x[0])
    ]


# Duplicates --------------------------------------------------------------------------

DUPLICATE_SIMILARITY = 0.6
_DUPLICATE_SCAN = 50
# Scripts written without spaces between words: compared by character bigrams.
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af\u1100-\u11ff"
_TOKEN_RE = re.compile(rf"[{_CJK}]+|[^\W_{_CJK}]+")
_STOPWORDS = frozenset(
    {
        *("a", "an", "and", "are", "be", "been", "can", "for", "from", "has", "have", "i"),
        *("in", "is", "it", "me", "my", "of", "on", "or", "please", "the", "to", "was", "with"),
    }
)


def subject_tokens(text: str) -> frozenset[str]:
    """Comparable tokens: lower-cased words, and character bigrams of CJK runs."""
    text = unicodedata.normalize("NFKC", text).casefold()
    tokens: set[str] = set()
    for run in _TOKEN_RE.findall(text):
        if re.match(rf"[{_CJK}]", run):
            tokens.update([run] if len(run) == 1 else (run[i : i + 2] for i in range(len(run) - 1)))
        elif run not in _STOPWORDS:
            tokens.add(run)
    return frozenset(tokens)


def subject_similarity(first: str, second: str) -> float:
    """Dice coefficient of the two subjects' tokens (0 to 1)."""
    a, b = subject_tokens(first), subject_tokens(second)
    if not a or not b:
        return 0.0
    return 2 * len(a & b) / (len(a) + len(b))


_DUPLICATE_IDENTIFIERS = {
    FieldType.TXID: IdentifierKind.TXID,
    FieldType.ORDER_ID: IdentifierKind.ORDER_ID,
}


def duplicate_candidates(
    user: User, *, category: TicketCategory, subject: str, fields: Mapping[str, Any]
) -> list[Ticket]:
    """The user's active requests that look like the one being written, newest first.

    A match is the same category with a similar subject, or the same TXID or
    order id in any category. Three queries.
    """
    active = (
        Ticket.objects.filter(requester=user, status__in=ACTIVE_STATUSES)
        .select_related("category")
        .order_by("-created_at", "-pk")
    )
    found: dict[int, Ticket] = {}
    for ticket in active.filter(category=category)[:_DUPLICATE_SCAN]:
        if subject_similarity(subject, ticket.subject) >= DUPLICATE_SIMILARITY:
            found[ticket.pk] = ticket
    identifiers = Q()
    form_fields: list[TicketField] = list(category.form_fields.all())
    for field in form_fields:
        raw = fields.get(field.key)
        if field.field_type in _DUPLICATE_IDENTIFIERS and isinstance(raw, str) and raw.strip():
            value = unicodedata.normalize("NFKC", raw.strip()).lower()
            identifiers |= Q(kind=_DUPLICATE_IDENTIFIERS[field.field_type], value=value)
    if identifiers:
        matching = TicketIdentifier.objects.filter(identifiers).values("ticket_id")
        for ticket in active.filter(pk__in=matching)[:_DUPLICATE_SCAN]:
            found.setdefault(ticket.pk, ticket)
    return sorted(found.values(), key=lambda t: (t.created_at, t.pk), reverse=True)


# Categories and macros --------------------------------------------------------


def active_categories() -> QuerySet[TicketCategory]:
    """Categories offered on the request form, each with its fields (two queries)."""
    return TicketCategory.objects.filter(is_active=True).prefetch_related("form_fields")


def macros_for(user: User, *, language: str) -> QuerySet[Macro]:
    """Active macros in `language` for everyone or for one of the user's teams."""
    return Macro.objects.filter(is_active=True, language=language).filter(
        Q(team__isnull=True) | Q(team__in=TeamMembership.objects.filter(user=user).values("team"))
    )


def macro_render(macro: Macro, *, ticket: Ticket, agent: User) -> str:
    """The macro's body with this request's placeholders filled in (plain text)."""
    return macro.render(
        {
            "reference": ticket.reference,
            "customer_name": ticket.requester.get_short_name(),
            "agent_name": agent.get_short_name(),
            "subject": ticket.subject,
        }
    )


# SLA ------------------------------------------------------------------------------------

SlaState = Literal["ok", "at_risk", "breached", "paused"]

# SLA_ORDERING, the "time to breach" sort, is defined with the inbox's sorts above.


def sla_state(ticket: Ticket, now: datetime.datetime) -> SlaState | None:
    """Where `ticket` stands against its nearest SLA deadline at `now` (no queries).

    - "breached": a deadline has passed; also while waiting on the customer
      when it passed before the clock stopped;
    - "paused": waiting on the customer, the clocks stand still;
    - "at_risk": past the policy's warning point (75 % of the target by default);
    - "ok": a deadline runs and is not near;
    - None: solved or closed, no policy, or no target running (all met).
    """
    if ticket.status not in ACTIVE_STATUSES:
        return None
    if ticket.sla_due_at is not None and ticket.sla_due_at <= now:
        return "breached"
    if ticket.status == Status.WAITING:
        return "paused" if ticket.sla_policy_id is not None else None
    if ticket.sla_due_at is None:
        return None
    if ticket.sla_warn_at is not None and ticket.sla_warn_at <= now:
        return "at_risk"
    return "ok"


def sla_time_left(ticket: Ticket, now: datetime.datetime) -> datetime.timedelta | None:
    """Until the nearest running deadline (negative once it passed); None when none runs."""
    if ticket.status not in ACTIVE_STATUSES or ticket.sla_due_at is None:
        return None
    return ticket.sla_due_at - now


def sla_attention_q(now: datetime.datetime) -> Q:
    """Active requests at risk or breached at `now`: the inbox's "at risk / breached" view.

    One range on the indexed `sla_warn_at`: a warning point never comes after
    its deadline, so breached requests are in it too. Combine with an inbox
    queryset: `agent_inbox(...).filter(sla_attention_q(now))`.
    """
    return Q(status__in=_ACTIVE, sla_warn_at__lte=now)


def sla_breached_q(now: datetime.datetime) -> Q:
    """Active requests with a deadline passed at `now` (indexed `sla_due_at`)."""
    return Q(status__in=_ACTIVE, sla_due_at__lte=now)


@dataclass(frozen=True)
class TeamSlaFigures:
    """How the SLA went for the requests one team holds, opened in a period."""

    team: Team | None
    tickets: int
    # First responses given without a recorded first-response breach.
    first_response_met: int
    first_response_breached: int
    # Every target's breaches (first response, next responses, resolution).
    breaches: int
    # Working time (pauses excluded), over the requests where it is known.
    median_first_response_seconds: float | None
    median_resolution_seconds: float | None


def sla_report(since: datetime.datetime, until: datetime.datetime) -> list[TeamSlaFigures]:
    """SLA figures per team (None: no team) of the requests opened in [since, until).

    Three queries. The medians are computed here from one column pair per
    request of the period: fine for reporting periods, not for a page that
    renders on every visit.
    """
    opened = Ticket.objects.filter(created_at__gte=since, created_at__lt=until)
    fr_breach = SlaMilestone.objects.filter(
        ticket=OuterRef("pk"), target=SlaTarget.FIRST_RESPONSE, stage=SlaStage.BREACH
    )
    rows = opened.annotate(fr_breached=Exists(fr_breach)).values_list(
        "team_id", "first_response_seconds", "resolution_seconds", "fr_breached"
    )
    breaches = dict(
        SlaMilestone.objects.filter(ticket__in=opened, stage=SlaStage.BREACH)
        .values_list("ticket__team_id")
        .annotate(count=Count("pk"))
        .order_by()
    )
    per_team: dict[int | None, dict[str, Any]] = {}
    for team_id, first, resolution, fr_breached in rows:
        figures = per_team.setdefault(
            team_id, {"tickets": 0, "met": 0, "breached": 0, "first": [], "resolution": []}
        )
        figures["tickets"] += 1
        figures["breached"] += fr_breached
        if first is not None:
            figures["first"].append(first)
            figures["met"] += not fr_breached
        if resolution is not None:
            figures["resolution"].append(resolution)
    teams = Team.objects.in_bulk([team_id for team_id in per_team if team_id is not None])
    return [
        TeamSlaFigures(
            team=teams.get(team_id) if team_id is not None else None,
            tickets=figures["tickets"],
            first_response_met=figures["met"],
            first_response_breached=figures["breached"],
            breaches=breaches.get(team_id, 0),
            median_first_response_seconds=(
                statistics.median(figures["first"]) if figures["first"] else None
            ),
            median_resolution_seconds=(
                statistics.median(figures["resolution"]) if figures["resolution"] else None
            ),
        )
        # Teams by name, then the requests without a team.
        for team_id, figures in sorted(
            per_team.items(),
            key=lambda item: (item[0] is None, str(teams[item[0]]) if item[0] else ""),
        )
    ]
