"""The embedded default's e-mail backend keeps each message whole in a file and logs one line."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from django.core import mail
from django.test import override_settings


def test_a_message_is_kept_whole_in_a_file_and_the_console_gets_one_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with (
        override_settings(EMAIL_BACKEND="apps.core.mail.ConsoleSummaryBackend", EMAIL_FILE_PATH=str(tmp_path)),
        caplog.at_level(logging.INFO, logger="apps.core.mail"),
    ):
        sent = mail.send_mail("Durham co-response: reminder", "You have a follow-up due.\nLine two.", None, ["a@x.org"])
    assert sent == 1
    files = list(tmp_path.iterdir())
    assert len(files) == 1 and "You have a follow-up due." in files[0].read_text()
    lines = [r.getMessage() for r in caplog.records if r.name == "apps.core.mail"]
    assert len(lines) == 1
    assert "a@x.org" in lines[0] and "Durham co-response: reminder" in lines[0] and str(files[0]) in lines[0]
    assert "follow-up due" not in lines[0]  # the body stays in the file
