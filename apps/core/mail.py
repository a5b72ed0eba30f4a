"""The embedded default's e-mail backend: each message is kept whole in a file under
``EMAIL_FILE_PATH`` (Django's file backend) and the console gets one line per message (to whom, the
subject, the file), so ``make run``'s console stays readable when the reminder sweep sends a batch.

Reminder e-mails carry no clinical detail (docs/reminders.md), and the one line carries only the
recipient and the subject. Production sets ``EMAIL_BACKEND`` to SMTP (docs/settings.md)."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from django.core.mail import EmailMessage
from django.core.mail.backends.filebased import EmailBackend as FileBackend

logger = logging.getLogger("apps.core.mail")


class ConsoleSummaryBackend(FileBackend):
    """Django's file backend, plus one log line (INFO) per message sent."""

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        sent = super().send_messages(email_messages)
        path = getattr(self, "_fname", None) or self.file_path
        for message in email_messages[:sent] if sent else ():
            logger.info("e-mail to %s: %r (kept in %s)", ", ".join(message.recipients()), message.subject, path)
        return sent
