"""The Celery app: one worker pool and one beat for the whole portal.

Start with `celery -A support_portal worker` and `celery -A support_portal beat`.
Tasks are enqueued with `task.delay_on_commit(...)` so a worker never runs
before the row it needs is committed.
"""

import os
from pathlib import Path

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "support_portal.settings.local")

app = Celery("support_portal", task_cls="celery.contrib.django.task:DjangoTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_configure.connect
def _create_state_folders(sender: Celery, **kwargs) -> None:
    # The filesystem transport expects its folders to exist.
    options = sender.conf.broker_transport_options or {}
    for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
        if options.get(key):
            Path(options[key]).mkdir(parents=True, exist_ok=True)
    # Beat writes its schedule there, whichever broker is in use.
    if sender.conf.beat_schedule_filename:
        Path(sender.conf.beat_schedule_filename).parent.mkdir(parents=True, exist_ok=True)


@app.task(name="support_portal.heartbeat", ignore_result=True)
def heartbeat() -> None:
    """Record that beat scheduled and a worker ran a task just now."""
    from support_portal.health import record_worker_heartbeat

    record_worker_heartbeat()
