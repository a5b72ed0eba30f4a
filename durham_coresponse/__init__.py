# Import the Celery app here so that @shared_task binds to it (see PITFALLS.md: otherwise shared_task
# silently binds to a default app that knows nothing of our broker settings).
from .celery import app as celery_app

__all__ = ("celery_app",)
