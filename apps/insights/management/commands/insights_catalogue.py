"""Print the metric catalogue, or rewrite its section of docs/insights.md (``--write``)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from apps.insights.catalogue_doc import render_markdown, write


class Command(BaseCommand):
    help = "Print the metric catalogue as Markdown; --write updates docs/insights.md."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--write", action="store_true", help="Rewrite the generated section of docs/insights.md.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["write"]:
            changed = write()
            self.stdout.write("docs/insights.md updated." if changed else "docs/insights.md is current.")
        else:
            self.stdout.write(render_markdown())
