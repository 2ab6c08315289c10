"""Template helpers of the request console."""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from django import forms, template
from django.forms.boundfield import BoundField
from django.utils.formats import localize
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

from tickets.models import Priority, Ticket

if TYPE_CHECKING:
    from tickets.console_views import InboxRow, SlaClock

register = template.Library()


def _escape(value: Any) -> str:
    """`conditional_escape(value)` without the lazy-string wrapper Django puts around
    each call, which costs as much as the escaping: this module escapes a few
    thousand values a page."""
    return value.__html__() if hasattr(value, "__html__") else html.escape(str(value))


def _attrs(attrs: dict) -> str:
    # As django/forms/widgets/attrs.html: False leaves the attribute out, True writes its name.
    return "".join(
        f" {_escape(name)}" if value is True else f' {_escape(name)}="{_escape(value)}"'
        for name, value in attrs.items()
        if value is not False
    )


@register.filter
def select(field: BoundField) -> SafeString:
    """`{{ field }}`, rendering a plain <select> in Python instead of through templates.

    The HTML is the same as Django's (tests/tickets/test_console.py compares
    them). Django renders every option through two more templates, about
    35 µs each: the inbox's filters and bulk tools carry about 100 options, a
    good part of the page's time. Any other widget renders as usual.
    """
    widget = field.field.widget
    if type(widget) is not forms.Select:
        return mark_safe(str(field))  # Django rendered it
    if field.field.localize:
        widget.is_localized = True
    attrs = field.build_widget_attrs({}, widget)
    if field.auto_id and "id" not in widget.attrs:
        attrs.setdefault("id", field.auto_id)
    context = widget.get_context(field.html_name, field.value(), attrs)["widget"]
    parts = [f'<select name="{_escape(context["name"])}"{_attrs(context["attrs"])}>']
    for group_name, options, _index in context["optgroups"]:
        if group_name:
            parts.append(f'\n  <optgroup label="{_escape(group_name)}">')
        for option in options:
            value, label = _escape(str(option["value"])), _escape(str(localize(option["label"])))
            parts.append(f'\n  <option value="{value}"{_attrs(option["attrs"])}>{label}</option>\n')
        if group_name:
            parts.append("\n  </optgroup>")
    parts.append("\n</select>")
    return mark_safe("".join(parts))  # every value is escaped above


# One inbox row, as `{% for ticket in … %}` in tickets/console/inbox.html would repeat it.
# Variables are escaped (_format); translations are inserted as they are, like
# `{% translate %}` and the text of `{% blocktranslate %}`.
_INBOX_ROW = """
          <tr class="tc-row{urgent}{compromise}" data-testid="ticket-row">
            <td class="tc-check"><input type="checkbox" name="tickets" value="{reference}" \
id="select-{reference}" aria-label="{select}"></td>
            <th scope="row">
              <a class="tc-subject" href="{url}">{subject}</a>
              <span class="tc-row-meta"><span class="tc-reference">{reference}</span> · \
{requester} · <abbr title="{language_name}" class="tc-language">{language}</abbr></span>
            </th>
            <td><span class="tc-badge tc-status tc-status-{status}">{status_label}</span></td>
            <td>
              <span class="tc-badge tc-priority tc-priority-{priority}">{priority_label}</span>
              {compromise_badge}
            </td>
            <td>{category}<span class="tc-row-meta">{team}</span></td>
            <td>{assignee}</td>
            <td><time datetime="{created_iso}" title="{created_text}">{created_since}</time></td>
            <td><time datetime="{updated_iso}" title="{updated_text}">{updated_ago}</time></td>
            <td>{sla}</td>
          </tr>
          """

# An SLA countdown, as tickets/console/_sla_clock.html writes it.
_SLA_RUNNING = (
    '<span class="tc-sla tc-sla-{state}" data-sla-due="{due}"{warn}>'
    '<span class="visually-hidden" data-sla-label>{label}</span> '
    "<span data-sla-left>{text}</span></span>"
)
_SLA_STILL = '<span class="tc-sla tc-sla-{state}">{text}</span>'


def _sla_clock(clock: SlaClock) -> SafeString:
    if not clock.due_iso:
        return mark_safe(_format(_SLA_STILL, state=clock.state, text=clock.text))
    warn = _format(' data-sla-warn="{warn}"', warn=clock.warn_iso) if clock.warn_iso else ""
    return mark_safe(  # every value is escaped by _format
        _format(
            _SLA_RUNNING,
            state=clock.state,
            due=clock.due_iso,
            warn=mark_safe(warn),
            label=clock.label,
            text=clock.text,
        )
    )


def _display(field_name: str) -> Callable[[Any], str]:
    """`ticket.get_<field>_display()`, with each label translated once, not once a row."""
    labels = {value: str(label) for value, label in Ticket._meta.get_field(field_name).flatchoices}
    return lambda value: labels.get(value, str(value))


@register.simple_tag
def inbox_rows(rows: Iterable[InboxRow]) -> SafeString:
    """The inbox's table rows, as `console_views._inbox_rows` prepares them.

    Written out in Python: through the template engine, the row's twenty-odd
    variables, tags and `get_*_display` calls cost about 0.2 ms a row, most of
    a 100-row page. tests/tickets/test_console.py checks the HTML against the
    template markup it replaces.
    """
    status_label, priority_label = _display("status"), _display("priority")
    language_name = _display("language")
    compromise_badge = format_html(
        '<span class="tc-badge tc-compromise">{}</span>', _trans(gettext("Account compromise"))
    )
    no_team = _trans(gettext("No team"))
    unassigned = format_html('<span class="tc-muted">{}</span>', _trans(gettext("Unassigned")))
    select, ago = gettext("Select %(reference)s"), gettext("%(since)s ago")
    # Rows share a few categories and teams: each name is looked up once.
    names: dict[tuple[type, int], str] = {}

    def name(obj) -> str:
        key = (type(obj), obj.pk)
        if key not in names:
            names[key] = obj.name
        return names[key]

    html_rows = []
    for row in rows:
        category = row.category
        html_rows.append(
            _format(
                _INBOX_ROW,
                urgent=" is-urgent" if row.priority == Priority.URGENT else "",
                compromise=" is-compromise" if category.is_compromise else "",
                reference=row.reference,
                select=_trans(select % {"reference": _escape(row.reference)}),
                url=row.workspace_url,
                subject=row.subject,
                requester=row.requester,
                language_name=language_name(row.language),
                language=row.language,
                status=row.status,
                status_label=status_label(row.status),
                priority=row.priority,
                priority_label=priority_label(row.priority),
                compromise_badge=compromise_badge if category.is_compromise else "",
                category=name(category),
                team=no_team if row.team is None else name(row.team),
                assignee=unassigned if row.assignee is None else row.assignee,
                created_iso=row.created.iso,
                created_text=row.created.text,
                created_since=row.created.since,
                updated_iso=row.updated.iso,
                updated_text=row.updated.text,
                updated_ago=_trans(ago % {"since": _escape(row.updated.since)}),
                sla=_sla_clock(row.sla),
            )
        )
    return mark_safe("".join(html_rows))  # each row is escaped by _format


def _trans(text: str) -> SafeString:
    # Translations are the project's own text: the templates print them unescaped too.
    return mark_safe(text)


def _format(template: str, **values) -> str:
    """`format_html(template, **values)` (escaped the same way, see `_escape`)."""
    return template.format(**{name: _escape(value) for name, value in values.items()})
