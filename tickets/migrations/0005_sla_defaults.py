"""Backfill `status_changed_at` and ship the default SLA policies of a 7×24 crypto desk.

The targets are written here, not imported: a migration must keep meaning
what it meant when it was written. Later edits belong in the admin.
"""

from django.db import migrations
from django.db.models import F
from django.db.models.functions import Coalesce

HOUR = 60
# priority: (first response, next response, resolution) in minutes
DEFAULT_TARGETS = {
    40: ("Urgent", 30, 1 * HOUR, 8 * HOUR),
    30: ("High", 2 * HOUR, 4 * HOUR, 24 * HOUR),
    20: ("Normal", 24 * HOUR, 24 * HOUR, 72 * HOUR),
    10: ("Low", 72 * HOUR, 72 * HOUR, 7 * 24 * HOUR),
}


def forwards(apps, schema_editor):
    Ticket = apps.get_model("tickets", "Ticket")
    SlaPolicy = apps.get_model("tickets", "SlaPolicy")
    Ticket.objects.update(
        status_changed_at=Coalesce(F("closed_at"), F("solved_at"), F("updated_at"))
    )
    if SlaPolicy.objects.exists():
        return
    for position, (priority, (label, first, following, resolution)) in enumerate(
        DEFAULT_TARGETS.items()
    ):
        SlaPolicy.objects.create(
            name=f"{label} (7×24)",
            position=(position + 1) * 10,
            priority=priority,
            first_response_minutes=first,
            next_response_minutes=following,
            resolution_minutes=resolution,
            warn_at_percent=75,
            escalate_on_breach=False,
        )


class Migration(migrations.Migration):
    dependencies = [("tickets", "0004_email_outbox_inbound_sla")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
