# The teams, categories and fields a fresh portal ships with (tickets/defaults.py).

from django.db import migrations


def create_defaults(apps, schema_editor):
    from tickets.defaults import ensure_default_categories

    ensure_default_categories(apps)


class Migration(migrations.Migration):

    dependencies = [
        ('tickets', '0001_initial'),
        ('helpcenter', '0003_category_names_fall_back_to_english'),
    ]

    operations = [
        migrations.RunPython(create_defaults, migrations.RunPython.noop),
    ]
