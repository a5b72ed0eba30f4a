from __future__ import annotations

import logging
import os
from collections.abc import Mapping

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "durham_coresponse.settings")

app = Celery("durham_coresponse")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


class QuietPeriodicTasks(logging.Filter):
    """Beat's "Sending due task", the worker's "received" and "succeeded" lines of the periodic sweeps
    (CELERY_BEAT_SCHEDULE) are debug chatter: several sweeps run every few seconds, which was ~1,000
    console lines in 11 minutes of ``make run``. They are dropped unless the root logger is at DEBUG
    (LOG_LEVEL=DEBUG). Other tasks' lines, every failure and what a sweep itself logs are kept."""

    def __init__(self) -> None:
        super().__init__()
        self._periodic: frozenset[str] | None = None

    def periodic(self) -> frozenset[str]:
        if self._periodic is None:
            schedule: Mapping[str, Mapping[str, object]] = app.conf.beat_schedule or {}
            self._periodic = frozenset(str(entry.get("task", "")) for entry in schedule.values())
        return self._periodic

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno > logging.INFO or logging.getLogger().isEnabledFor(logging.DEBUG):
            return True
        args = record.args
        if isinstance(args, Mapping):
            task = args.get("name")
        elif isinstance(args, tuple) and len(args) >= 2:
            task = args[1]  # beat: ("Scheduler: Sending due task %s (%s)", entry name, task name)
        else:
            return True
        return str(task) not in self.periodic()


_quiet = QuietPeriodicTasks()
for _name in ("celery.beat", "celery.worker.strategy", "celery.app.trace"):
    logging.getLogger(_name).addFilter(_quiet)
