"""Exports of an answer (a dashboard or a frozen report): CSV, XLSX and a printable HTML page.

Every export carries the data dictionary: the CSV as columns of every row (each row says what it
counts), the XLSX as a "Data dictionary" sheet, the printable page as an appendix. Values are those
of the answer as given (suppressed for analysts: "<11", "*"). Writing the audit record is the API's
job (apps/insights/services.py ``export_record``), not this module's.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.template.loader import render_to_string
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from .catalogue import BREAKDOWN, COUNT, DISTINCT, LIVE, PERCENTILES, SHARE, SHARES

COLUMNS = (
    "period",
    "measure_id",
    "group",
    "measure",
    "key",
    "label",
    "team",
    "month",
    "statistic",
    "value",
    "unit",
    "counts",
    "numerator",
    "denominator",
    "source_fields",
    "exclusions",
    "catalogue_version",
)
DICTIONARY_COLUMNS = (
    "id",
    "group",
    "title",
    "kind",
    "counts",
    "numerator",
    "denominator",
    "source_fields",
    "period",
    "exclusions",
    "unit",
    "grant_item",
    "filters",
    "audience",
    "version",
)


@dataclass(frozen=True)
class Report:
    """What an export needs: the answer, its catalogue, and a few lines about it."""

    answer: dict[str, Any]
    catalogue: dict[str, Any]
    title: str
    about: list[tuple[str, str]]
    filename: str


def _stat_rows(kind: str, value: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """(key, label, team, month, statistic, value) rows of one measure's answer."""

    def row(statistic: str, v: Any, **where: Any) -> dict[str, Any]:
        return {"key": "", "label": "", "team": "", "month": "", **where, "statistic": statistic, "value": v}

    if kind in (COUNT, LIVE) or (kind == DISTINCT and "value" in value):
        yield row("value", value.get("value"))
        if "encounters" in value:
            yield row("encounters", value["encounters"])
        for m in value.get("by_month", []):
            yield row("value", m["value"], month=m["month"])
    elif kind == BREAKDOWN:
        yield row("total", value["total"], key="total", label="Total")
        for r in value["rows"]:
            yield row("value", r["value"], key=r["key"], label=r["label"])
            if "hours" in r:
                yield row("hours", r["hours"], key=r["key"], label=r["label"])
    elif kind in (SHARE, DISTINCT):
        for stat in ("numerator", "denominator", "rate"):
            yield row(stat, value[stat])
        for m in value.get("by_month", []):
            for stat in ("numerator", "denominator", "rate"):
                yield row(stat, m[stat], month=m["month"])
    elif kind == SHARES:
        for r in value["rows"]:
            for stat in ("numerator", "denominator", "rate"):
                yield row(stat, r[stat], key=r["key"], label=r["label"])
    elif kind == PERCENTILES:
        for stat in ("n", "p50", "p90"):
            yield row(stat, value["overall"][stat])
        for m in value.get("by_month", []):
            for stat in ("n", "p50", "p90"):
                yield row(stat, m[stat], month=m["month"])
        for t in value.get("by_team", []):
            for stat in ("n", "p50", "p90"):
                yield row(stat, t[stat], team=t["team"])
        for t in value.get("by_team_month", []):
            for stat in ("n", "p50", "p90"):
                yield row(stat, t[stat], team=t["team"], month=t["month"])


def detail_rows(report: Report) -> list[dict[str, Any]]:
    measures = {m["id"]: m for m in report.catalogue["measures"]}
    period = report.answer["period"]["key"]
    rows = []
    for measure_id, value in report.answer["measures"].items():
        m = measures.get(measure_id)
        if m is None:
            continue
        for stat in _stat_rows(m["kind"], value):
            rows.append(
                {
                    "period": period,
                    "measure_id": measure_id,
                    "group": m["group"],
                    "measure": m["title"],
                    **stat,
                    "unit": m["unit"],
                    "counts": m["counts"],
                    "numerator": m["numerator"],
                    "denominator": m["denominator"],
                    "source_fields": "; ".join(m["source_fields"]),
                    "exclusions": m["exclusions"],
                    "catalogue_version": report.catalogue["version"],
                }
            )
    return rows


def to_csv(report: Report) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, extrasaction="ignore", lineterminator="\r\n")
    writer.writeheader()
    for row in detail_rows(report):
        writer.writerow({k: ("" if v is None else v) for k, v in row.items()})
    # A byte-order mark so spreadsheet programs read the en dashes and arrows as UTF-8.
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _sheet(wb: Workbook, title: str, header: tuple[str, ...], rows: list[list[Any]], widths: dict[int, int]) -> None:
    ws = wb.create_sheet(title)
    ws.append(list(header))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for r in rows:
        ws.append(r)
    ws.freeze_panes = "A2"
    for index in range(1, len(header) + 1):
        ws.column_dimensions[get_column_letter(index)].width = widths.get(index, 14)
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")


def summary_rows(report: Report) -> list[list[Any]]:
    """One line per measure: its headline figures."""
    measures = {m["id"]: m for m in report.catalogue["measures"]}
    out: list[list[Any]] = []
    for measure_id, value in report.answer["measures"].items():
        m = measures.get(measure_id)
        if m is None:
            continue
        headline = headline_of(m["kind"], value)
        out.append([m["group"], m["title"], *headline, m["unit"], measure_id])
    return out


def headline_of(kind: str, value: dict[str, Any]) -> list[Any]:
    """[value, numerator, denominator, rate, n, p50, p90] (blanks where they do not apply)."""
    blank: list[Any] = [None] * 7
    if kind in (COUNT, LIVE) or (kind == DISTINCT and "value" in value):
        blank[0] = value.get("value")
    elif kind == BREAKDOWN:
        blank[0] = value["total"]
    elif kind in (SHARE, DISTINCT):
        blank[1:4] = [value["numerator"], value["denominator"], value["rate"]]
    elif kind == PERCENTILES:
        o = value["overall"]
        blank[4:7] = [o["n"], o["p50"], o["p90"]]
    return blank


def to_xlsx(report: Report) -> bytes:
    wb = Workbook()
    about = wb.active
    assert about is not None  # a new workbook has its first sheet  # noqa: S101
    about.title = "About"
    about.append([report.title])
    about["A1"].font = Font(bold=True, size=14)
    for label, text in report.about:
        about.append([label, text])
    about.column_dimensions["A"].width = 24
    about.column_dimensions["B"].width = 100
    _sheet(
        wb,
        "Report",
        ("group", "measure", "value", "numerator", "denominator", "rate", "n", "p50_seconds", "p90_seconds",
         "unit", "measure_id"),
        summary_rows(report),
        {1: 16, 2: 44, 10: 30, 11: 30},
    )  # fmt: skip
    details = detail_rows(report)
    _sheet(wb, "Details", COLUMNS, [[r.get(c) for c in COLUMNS] for r in details], {3: 16, 4: 40, 6: 30, 12: 40})
    dictionary = [
        ["; ".join(m[c]) if isinstance(m.get(c), list) else m.get(c) for c in DICTIONARY_COLUMNS]
        for m in report.catalogue["measures"]
    ]
    _sheet(wb, "Data dictionary", DICTIONARY_COLUMNS, dictionary, {1: 30, 3: 40, 5: 40, 6: 50, 7: 50, 8: 50, 10: 50})
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def to_html(report: Report) -> str:
    measures = {m["id"]: m for m in report.catalogue["measures"]}
    sections: dict[str, list[dict[str, Any]]] = {}
    for measure_id, value in report.answer["measures"].items():
        m = measures.get(measure_id)
        if m is None:
            continue
        sections.setdefault(m["group"], []).append({"measure": m, "value": value})
    return render_to_string(
        "insights/report_print.html",
        {"report": report, "sections": sections, "catalogue": report.catalogue},
    )
