"""Writes the survey test files the `survey` cases of the tests crate import.

The workbooks are made with openpyxl, not by Patto, so that the reader is tested on files
as another tool writes them: a title row merged across the columns, a header merged over
two rows, a Comune's name merged down its block of rows, dates stored as Excel date
serials, numbers stored as numbers and as text with decimal commas. The generated files
are checked in; run this again (python3 make_survey_files.py, with openpyxl 3.1) only to
change them.
"""

import datetime
from pathlib import Path

from openpyxl import Workbook

HERE = Path(__file__).parent
HEADER = ["Comune", "Indicatore", "Data di riferimento", "Valore", "Fonte", "Note"]


def workbook(title, blocks):
    """blocks: [(organisation slug, [(indicator, date, value, source, note), ...]), ...]"""
    book = Workbook()
    sheet = book.active
    sheet.title = "Ricognizione"
    sheet["A1"] = title
    sheet.merge_cells("A1:F1")
    for column, name in enumerate(HEADER, start=1):
        sheet.cell(row=2, column=column, value=name)
        sheet.merge_cells(start_row=2, start_column=column, end_row=3, end_column=column)
    row = 4
    for organisation, rows in blocks:
        first = row
        for indicator, date, value, source, note in rows:
            sheet.cell(row=row, column=2, value=indicator)
            date_cell = sheet.cell(row=row, column=3, value=date)
            if isinstance(date, datetime.date):
                date_cell.number_format = "DD/MM/YYYY"
            value_cell = sheet.cell(row=row, column=4, value=value)
            if isinstance(value, datetime.date):
                value_cell.number_format = "DD/MM/YYYY"
            sheet.cell(row=row, column=5, value=source)
            sheet.cell(row=row, column=6, value=note)
            row += 1
        sheet.cell(row=first, column=1, value=organisation)
        if row - 1 > first:
            sheet.merge_cells(start_row=first, start_column=1, end_row=row - 1, end_column=1)
    return book


def day(year, month, d):
    return datetime.datetime(year, month, d)


good = workbook(
    "Ricognizione dei dati di partenza 2023-2024 - Città a Rete Madonie-Termini",
    [
        ("cefalu", [
            ("AMB01", day(2023, 12, 31), 61.2, None, None),
            ("AMB01", day(2024, 12, 31), "65,3", "ISPRA Catasto rifiuti 2024", None),
            ("SP01", day(2024, 12, 31), "1.234,50", None, "dato provvisorio"),
        ]),
        ("citta-a-rete", [
            ("AMB02", day(2024, 12, 31), 480.7, None, None),
            ("BT02", day(2024, 12, 31), -3.5, None, "pagamenti in anticipo"),
            ("PM03", day(2024, 12, 31), 4, None, None),
        ]),
    ],
)
good.save(HERE / "good.xlsx")

bad = workbook(
    "Ricognizione con errori",
    [
        ("cefalu", [
            ("AMB01", day(2024, 12, 31), 120, None, None),
            ("XX99", day(2024, 12, 31), 1, None, None),
            ("SP04", day(2024, 12, 31), "12,5", None, None),
            ("AMB02", day(2024, 12, 31), day(2024, 1, 1), None, None),
            ("AMB01", "31/13/2024", 50, None, None),
            ("CT01", day(2024, 12, 31), 1000, None, "valid, but must not be imported"),
            ("LP04", day(2024, 12, 31), None, None, None),
        ]),
    ],
)
bad.save(HERE / "bad.xlsx")

# CSV as an Italian spreadsheet saves it: UTF-8 with a byte-order mark, semicolons,
# decimal commas, and a date column formatted as a number (an Excel serial: 44926 is
# 31/12/2022).
(HERE / "good.csv").write_text(
    "\ufeffcomune;indicatore;data;valore;fonte;note\r\n"
    "cefalu;AMB01;44926;58,9;;\r\n"
    "cefalu;LP04;31/12/2022;7;ISTAT-ACI;\"incidenti; dato comunale\"\r\n",
    encoding="utf-8",
)
(HERE / "bad.csv").write_text(
    "comune;indicatore;anno;valore\n"
    "cefalu;AMB01;2022;58,9\n"
    "cefalu;AMB01;2022;59,1\n"
    "cefalu;PM01;1850;1,2\n",
    encoding="utf-8",
)
(HERE / "unknown-organisation.csv").write_text(
    "comune;indicatore;anno;valore\n"
    "cefalu;AMB01;2021;55\n"
    "atlantide;AMB01;2021;40\n",
    encoding="utf-8",
)
