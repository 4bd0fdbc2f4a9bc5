"""Exports bigger than a sheet (the whole workforce: 1.5 million volunteers) and exports streamed to a file."""

from __future__ import annotations

import csv
import io

import openpyxl

from core.figures.spreadsheet import XlsxWriter, write_csv

COLUMNS = ["Nom", "Ville"]


def _rows(count: int) -> list[list[str]]:
    return [[f"Nom {n}", f"Ville {n}"] for n in range(1, count + 1)]


def _sheets(content: bytes) -> dict[str, list[tuple]]:
    book = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
    return {sheet.title: list(sheet.iter_rows(values_only=True)) for sheet in book.worksheets}


def test_a_table_longer_than_a_sheet_goes_on_in_numbered_sheets_each_with_its_header() -> None:
    writer = XlsxWriter(sheet_rows=3)
    assert writer.add_sheet("Professionnels", COLUMNS, _rows(7)) == 7
    writer.add_about("À propos", [("Lignes", 7)], position=0)
    sheets = _sheets(writer.close())
    assert list(sheets) == ["À propos", "Professionnels", "Professionnels (2)", "Professionnels (3)"]
    assert sheets["Professionnels"] == [("Nom", "Ville"), ("Nom 1", "Ville 1"), ("Nom 2", "Ville 2"),
                                        ("Nom 3", "Ville 3")]
    assert sheets["Professionnels (3)"] == [("Nom", "Ville"), ("Nom 7", "Ville 7")]
    every_row = [row for title in list(sheets)[1:] for row in sheets[title][1:]]
    assert every_row == [tuple(row) for row in _rows(7)]


def test_a_table_of_exactly_one_sheet_has_no_empty_second_sheet() -> None:
    writer = XlsxWriter(sheet_rows=3)
    assert writer.add_sheet("Missions", COLUMNS, _rows(3)) == 3
    assert list(_sheets(writer.close())) == ["Missions"]


def test_an_export_written_to_a_file_keeps_nothing_in_memory(tmp_path) -> None:
    path = tmp_path / "professionnels.xlsx"
    with open(path, "wb") as target:
        writer = XlsxWriter(target)
        writer.add_sheet("Professionnels", COLUMNS, _rows(5))
        assert writer.close() == b""
    assert _sheets(path.read_bytes())["Professionnels"][-1] == ("Nom 5", "Ville 5")
    csv_path = tmp_path / "professionnels.csv"
    with open(csv_path, "wb") as target:
        assert write_csv(COLUMNS, _rows(4), target) == (b"", 4)
    with open(csv_path, encoding="utf-8-sig", newline="") as handle:
        assert list(csv.reader(handle, delimiter=";"))[-1] == ["Nom 4", "Ville 4"]
