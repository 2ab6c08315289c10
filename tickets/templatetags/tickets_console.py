"""Template helpers of the request console."""

from __future__ import annotations

from django import forms, template
from django.forms.boundfield import BoundField
from django.utils.formats import localize
from django.utils.html import conditional_escape, format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


def _attrs(attrs: dict) -> SafeString:
    # As django/forms/widgets/attrs.html: False leaves the attribute out, True writes its name.
    return format_html_join(
        "",
        "{}",
        (
            (format_html(" {}", name) if value is True else format_html(' {}="{}"', name, value),)
            for name, value in attrs.items()
            if value is not False
        ),
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
    parts = [format_html('<select name="{}"{}>', context["name"], _attrs(context["attrs"]))]
    for group_name, options, _index in context["optgroups"]:
        if group_name:
            parts.append(format_html('\n  <optgroup label="{}">', group_name))
        for option in options:
            parts.append(
                format_html(
                    '\n  <option value="{}"{}>{}</option>\n',
                    str(option["value"]),
                    _attrs(option["attrs"]),
                    conditional_escape(str(localize(option["label"]))),
                )
            )
        if group_name:
            parts.append(mark_safe("\n  </optgroup>"))
    parts.append(mark_safe("\n</select>"))
    return mark_safe("".join(parts))  # every part is escaped above
