"""`export --to csv DIR`: one CSV file a table (steps.csv, epochs.csv, gradients.csv, ...),
one row a logged step or epoch, one column a scalar; floats written exactly (repr)."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path
from typing import IO

from cnn_tui.export.scalars import NAMES_ERRORS, TABLES, Row, read_everything


class CsvTable:
    """Rows go to a body file as they come; the header is written last, once every column is known.
    A column that first appears late (rare) makes the body be rewritten with the gaps filled."""

    def __init__(self, folder: Path, name: str) -> None:
        self.path = folder / f"{name}.csv"
        self.body_path = folder / f".{name}.body"
        self.columns = list(TABLES[name][0])
        self.known = set(self.columns)
        self.grew = False
        self.rows = 0
        self._body: IO[str] = open(self.body_path, "w", newline="", encoding="utf-8", errors=NAMES_ERRORS)
        self._writer = csv.writer(self._body)

    def add(self, row: Row) -> None:
        cells = {**row.index, **row.values}
        new = [name for name in cells if name not in self.known]
        if new:
            self.grew = self.grew or self.rows > 0
            self.columns += new
            self.known.update(new)
        self._writer.writerow([cells.get(name, "") for name in self.columns])
        self.rows += 1

    def close(self) -> None:
        self._body.close()
        with open(self.path, "w", newline="", encoding="utf-8", errors=NAMES_ERRORS) as out:
            csv.writer(out).writerow(self.columns)
            with open(self.body_path, newline="", encoding="utf-8") as body:
                if not self.grew:
                    shutil.copyfileobj(body, out)
                else:
                    width = len(self.columns)
                    writer = csv.writer(out)
                    for cells in csv.reader(body):
                        writer.writerow(cells + [""] * (width - len(cells)))
        self.body_path.unlink()


def export_csv(run_dir: Path, folder: Path) -> dict[str, int]:
    """Write the tables into `folder`; returns rows written per file."""
    tables: dict[str, CsvTable] = {}
    for item in read_everything(run_dir):
        if isinstance(item, Row):
            table = tables.get(item.table) or tables.setdefault(item.table, CsvTable(folder, item.table))
            table.add(item)
    for table in tables.values():
        table.close()
    return {table.path.name: table.rows for table in tables.values()}
