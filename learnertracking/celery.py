"""The Celery app. Without REDIS_URL, settings make every task run in-process (eager)."""

import os

from celery import Celery, Task

from base.scoping import outside_any_scope


class OutsideAnyScope(Task):
    """A task starts outside any scope, even run in-process from a request: a learner query
    it makes must say whose (base.scoping), as it would have to on a worker."""

    def __call__(self, *args, **kwargs):
        with outside_any_scope():
            return super().__call__(*args, **kwargs)


os.environ.setdefault("DJANGO_SETTINGS_MODULE", "learnertracking.settings")

app = Celery("learnertracking", task_cls=OutsideAnyScope)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
