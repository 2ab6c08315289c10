"""Backfill `status_changed_at` and ship the default SLA policies (tickets/defaults.py)."""

from django.db import migrations
from django.db.models import F
from django.db.models.functions import Coalesce


def forwards(apps, schema_editor):
    from tickets.defaults import ensure_default_sla_policies

    Ticket = apps.get_model("tickets", "Ticket")
    Ticket.objects.update(
        status_changed_at=Coalesce(F("closed_at"), F("solved_at"), F("updated_at"))
    )
    ensure_default_sla_policies(apps)


class Migration(migrations.Migration):
    dependencies = [("tickets", "0004_email_outbox_inbound_sla")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
