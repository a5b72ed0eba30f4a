"""E-mail backends for the real-worker failure tests (loaded by the worker subprocess by dotted path)."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from pathlib import Path

from django.core.mail.backends.filebased import EmailBackend
from django.core.mail.message import EmailMessage


class HangingBackend(EmailBackend):
    """Signals that a delivery is in progress (a marker file), then hangs: the test SIGKILLs the
    worker right there, mid-delivery, after the event channel went out and before the e-mail."""

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        Path(os.environ["RELIABILITY_HANG_MARKER"]).write_text("in send_mail\n")
        time.sleep(600)
        return 0
