"""Reading one file of a drop as a stream of raw rows: CSV (UTF-8 or GB18030/GBK), Excel .xlsx or Parquet.

Files can be gigabytes, so nothing here reads a whole file: CSV goes through the C csv reader over a text
wrapper, Excel through openpyxl's read-only mode, Parquet batch by batch. Every cell comes out as a string
(or None when empty) exactly as the file has it; typing and checking is the validator's job. A file that
cannot be read at all raises FileProblem with a stable code and a message that says what to do.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from types import TracebackType
from typing import IO, Any

BOM = codecs.BOM_UTF8
SAMPLE = 1 << 20  # bytes looked at to detect the encoding
BLOCK = 1 << 20  # bytes per read when hashing
BATCH = 16_384  # Parquet rows per batch
_ENCODINGS = {
    "utf-8": "utf-8",
    "utf8": "utf-8",
    "utf-8-sig": "utf-8",
    "gbk": "gb18030",
    "gb2312": "gb18030",
    "gb18030": "gb18030",
}
_LABEL = {"utf-8": "UTF-8", "gb18030": "GB18030/GBK"}
_OTHER_DELIMITERS = {";": "semicolon (;)", "\t": "tab", "|": "pipe (|)"}
_ESCAPED = re.compile("[\udc80-\udcff]")  # bytes that did not decode, under errors="surrogateescape"


class FileProblem(Exception):
    """The whole file is unusable. code: one of "encoding", "empty_file", "delimiter", "truncated", "format",
    "unreadable"."""

    def __init__(self, code: str, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.line = line


class Formula(str):
    """An Excel cell that holds a formula (its text, e.g. '=SUM(A1:A3)'); the validator rejects it."""

    __slots__ = ()


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(BLOCK):
            digest.update(block)
    return digest.hexdigest()


def _normalise_encoding(encoding: str) -> str:
    name = _ENCODINGS.get(encoding.strip().lower().replace("_", "-"))
    if name is None:
        raise FileProblem("encoding", f"encoding {encoding} is not supported; use utf-8 or gb18030 (gbk)")
    return name


def detect_encoding(path: Path) -> str:
    """ "utf-8" or "gb18030", judged from the first MiB (a UTF-8 byte-order mark settles it)."""
    with open(path, "rb") as handle:
        if handle.read(len(BOM)) == BOM:
            return "utf-8"
        for name in ("utf-8", "gb18030"):
            handle.seek(0)
            if _decodes(handle, name):
                return name
    raise FileProblem(
        "encoding",
        "the file is neither UTF-8 nor GB18030/GBK; re-export it as UTF-8 (or GBK) "
        "and declare the encoding in manifest.json",
    )


def _decodes(handle: IO[bytes], name: str) -> bool:
    """Whether the first MiB decodes, piece by piece (a character cut by the sample's end is fine)."""
    decoder = codecs.getincrementaldecoder(name)("strict")
    left = SAMPLE
    try:
        while left > 0:
            piece = handle.read(min(left, 1 << 16))
            decoder.decode(piece, not piece)  # final only at the end of the file
            if not piece:
                break
            left -= len(piece)
    except UnicodeDecodeError:
        return False
    return True


def _text(value: Any) -> str | None:
    """A non-string cell value as the validator expects to read it."""
    if value is None:
        return None
    kind = type(value)
    if kind is str:
        return value or None
    if kind is bool:
        return "1" if value else "0"
    if kind is int:
        return str(value)
    if kind is float:
        return _float_text(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        if value.tzinfo is None and value.time() == time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def _float_text(value: float) -> str:
    """A plain decimal without exponent; 5.0 -> "5", 0.1 -> "0.1" (the shortest repr, not binary noise)."""
    if value.is_integer():
        return str(int(value))
    text = repr(value)
    if "e" in text and text not in ("inf", "-inf"):
        return format(Decimal(text), "f")
    return text


@dataclass
class TableReader:
    """One open file: the header is read and checked; rows() streams the records after it."""

    path: Path
    format: str  # "csv" | "xlsx" | "parquet"
    encoding: str  # "utf-8" | "gb18030" for CSV; "" otherwise
    header: list[str] = field(default_factory=list)

    def rows(self) -> Iterator[tuple[int, list[str | None]]]:
        """(line number, cells) in file order; single pass."""
        raise NotImplementedError

    def close(self) -> None:
        """Release the file."""

    def __enter__(self) -> TableReader:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _clean_header(names: list[Any]) -> list[str]:
    return [("" if n is None else str(n)).replace("\ufeff", "").strip() for n in names]


@dataclass
class CsvReader(TableReader):
    _raw: IO[bytes] | None = None
    _text: io.TextIOWrapper | None = None
    _reader: Iterator[list[Any]] = field(default_factory=lambda: iter(()))
    _ends_with_newline: bool = True
    _line: int = 0  # the physical line the last record read ended on

    def _open(self) -> None:
        raw = self._raw = open(self.path, "rb", buffering=1 << 16)  # noqa: SIM115 (closed by close())
        size = raw.seek(0, io.SEEK_END)
        if size:
            raw.seek(size - 1)
            self._ends_with_newline = raw.read(1) in (b"\n", b"\r")
        raw.seek(0)
        bom = raw.read(len(BOM)) == BOM
        if bom and self.encoding != "utf-8":
            self.encoding = "utf-8"  # a UTF-8 byte-order mark outranks a declaration: GBK never starts so
        raw.seek(len(BOM) if bom else 0)
        self._text = io.TextIOWrapper(raw, encoding=self.encoding, errors="strict", newline="")
        self._reader = csv.reader(self._text, strict=True)
        self.header = self._read_header()

    def _read_header(self) -> list[str]:
        while True:
            try:
                row = self._next()
            except StopIteration:
                raise FileProblem(
                    "empty_file", "the file is empty; export it again with its header"
                ) from None
            if any(not cell.isspace() and cell for cell in row):
                break
        header = _clean_header(row)
        if len(header) == 1:
            found = max(_OTHER_DELIMITERS, key=header[0].count)
            if found in header[0]:
                message = (
                    f"the header is separated by {_OTHER_DELIMITERS[found]}, not by commas; "
                    "re-export the file as comma-separated CSV"
                )
                raise FileProblem("delimiter", message, self._line)
        return header

    def _next(self) -> list[Any]:
        """The next record, for the header (rows() inlines the same for speed)."""
        try:
            row = next(self._reader)
        except UnicodeDecodeError:
            raise self._decode_problem() from None
        except csv.Error as exc:
            raise self._csv_problem(exc, self._line + 1) from None
        self._line = self._reader.line_num  # type: ignore[attr-defined]
        return row

    def rows(self) -> Iterator[tuple[int, list[str | None]]]:
        reader = self._reader
        width = len(self.header)
        line = self._line
        pending: tuple[int, list[Any]] | None = None  # the record held back until we know it is not the last
        hold = not self._ends_with_newline
        try:
            for row in reader:
                start = line + 1
                line = reader.line_num  # type: ignore[attr-defined]
                if len(row) != width and (not row or (len(row) == 1 and row[0].isspace())):
                    if pending is not None:
                        yield pending
                        pending = None
                    continue  # an empty line
                if "" in row:
                    row = [cell or None for cell in row]
                if hold:
                    if pending is not None:
                        yield pending
                    pending = (start, row)
                else:
                    yield start, row
        except UnicodeDecodeError:
            raise self._decode_problem() from None
        except csv.Error as exc:
            raise self._csv_problem(exc, line + 1) from None
        finally:
            self._line = line
        if pending is not None:
            if len(pending[1]) < width:
                message = (
                    f"the file ends in the middle of the record on line {pending[0]} "
                    f"({len(pending[1])} of {width} cells, no final newline); the file looks cut off: "
                    "send it again complete"
                )
                raise FileProblem("truncated", message, pending[0])
            yield pending

    def _csv_problem(self, exc: csv.Error, line: int) -> FileProblem:
        if "unexpected end of data" in str(exc):
            message = (
                f"the file ends inside a quoted field that starts on line {line}; the file looks cut off "
                "(or a closing quote is missing): send it again complete"
            )
            return FileProblem("truncated", message, line)
        message = f"the CSV record on line {line} cannot be read ({exc}); check its quotes and re-export"
        return FileProblem("format", message, line)

    def _decode_problem(self) -> FileProblem:
        """Find the first line that does not decode (the text layer reads ahead, so its error has no line)."""
        line = 0
        with open(self.path, "rb") as raw:
            if raw.read(len(BOM)) != BOM:
                raw.seek(0)
            text = io.TextIOWrapper(raw, encoding=self.encoding, errors="surrogateescape", newline="")
            for line, content in enumerate(text, start=1):  # noqa: B007 (line is used after the loop)
                if _ESCAPED.search(content):
                    break
        label = _LABEL[self.encoding]
        message = (
            f"line {line} is not valid {label}; declare the file's real encoding in manifest.json "
            "(utf-8 or gbk) or re-export it as UTF-8"
        )
        return FileProblem("encoding", message, line or None)

    def close(self) -> None:
        if self._text is not None:
            self._text.close()  # closes the raw file too
        elif self._raw is not None:
            self._raw.close()
        self._text = self._raw = None


@dataclass
class XlsxReader(TableReader):
    _book: Any = None
    _rows: Iterator[tuple[Any, ...]] = field(default_factory=lambda: iter(()))
    _row_no: int = 0

    def _open(self) -> None:
        from openpyxl import load_workbook

        try:
            self._book = load_workbook(self.path, read_only=True, data_only=False)
            sheet = self._book.worksheets[0]
            sheet.reset_dimensions()  # some exporters write a wrong <dimension>; read what is there
            self._rows = sheet.iter_rows(values_only=True)
        except Exception as exc:
            raise FileProblem("unreadable", _unreadable("an Excel .xlsx workbook", exc)) from None
        for values in self._each():
            header = _clean_header(list(values))
            while header and not header[-1]:
                header.pop()
            if header:
                self.header = header
                return
        raise FileProblem("empty_file", "the first worksheet is empty; put the header in row 1")

    def _each(self) -> Iterator[tuple[Any, ...]]:
        while True:
            try:
                values = next(self._rows)
            except StopIteration:
                return
            except Exception as exc:
                message = _unreadable("an Excel .xlsx workbook", exc)
                raise FileProblem("unreadable", message, self._row_no + 1) from None
            self._row_no += 1
            yield values

    def rows(self) -> Iterator[tuple[int, list[str | None]]]:
        width = len(self.header)
        for values in self._each():
            cells = [_xlsx_text(v) for v in values]
            while len(cells) > width and cells[-1] is None:
                cells.pop()
            if len(cells) < width:
                cells.extend([None] * (width - len(cells)))  # absent cells at the end are empty cells
            if any(cell is not None for cell in cells):  # fully empty rows are skipped, as CSV's empty lines
                yield self._row_no, cells

    def close(self) -> None:
        if self._book is not None:
            self._book.close()
            self._book = None


def _xlsx_text(value: Any) -> str | None:
    if type(value) is str:
        if value.startswith("="):
            return Formula(value)
        return value or None
    if value is None or isinstance(value, int | float | date | time):
        return _text(value)
    text = getattr(value, "text", None)  # ArrayFormula; DataTableFormula has no text
    if text is not None or type(value).__name__.endswith("Formula"):
        return Formula(text or "=")
    return _text(value)


@dataclass
class ParquetReader(TableReader):
    _file: Any = None

    def _open(self) -> None:
        import pyarrow.parquet as pq

        try:
            self._file = pq.ParquetFile(self.path)
        except Exception as exc:
            raise FileProblem("unreadable", _unreadable("a Parquet file", exc)) from None
        self.header = _clean_header(list(self._file.schema_arrow.names))
        if not self.header:
            raise FileProblem("empty_file", "the Parquet file has no columns")

    def rows(self) -> Iterator[tuple[int, list[str | None]]]:
        import pyarrow as pa

        converters = [_parquet_converter(f.type, pa) for f in self._file.schema_arrow]
        batches = self._file.iter_batches(batch_size=BATCH)
        line = 2  # as if line 1 were a header
        while True:
            try:
                batch = next(batches)
            except StopIteration:
                return
            except Exception as exc:
                raise FileProblem("unreadable", _unreadable("a Parquet file", exc), line) from None
            columns = [convert(batch.column(i)) for i, convert in enumerate(converters)]
            for cells in zip(*columns, strict=True):
                yield line, list(cells)
                line += 1


def _parquet_converter(kind: Any, pa: Any) -> Callable[[Any], list[str | None]]:
    """Per column: the C cast where it gives exactly our text, else a Python pass over the values."""
    types = pa.types
    if types.is_integer(kind):
        return lambda column: column.cast(pa.string()).to_pylist()
    if types.is_string(kind) or types.is_large_string(kind):
        return lambda column: [v or None for v in column.to_pylist()]
    return lambda column: [_text(v) for v in column.to_pylist()]


def _unreadable(what: str, exc: BaseException) -> str:
    return f"the file cannot be read as {what} ({type(exc).__name__}: {exc}); save or export it again"


_READERS: dict[str, type[CsvReader] | type[XlsxReader] | type[ParquetReader]] = {
    ".csv": CsvReader,
    ".xlsx": XlsxReader,
    ".parquet": ParquetReader,
}


def open_table(path: Path, *, encoding: str | None = None) -> TableReader:
    """Open one file of a drop by its suffix and read its header; use it as a context manager."""
    path = Path(path)
    reader_class = _READERS.get(path.suffix.lower())
    if reader_class is None:
        known = ", ".join(_READERS)
        raise FileProblem("format", f"{path.name}: unsupported file type; send {known}")
    if reader_class is CsvReader:
        chosen = _normalise_encoding(encoding) if encoding else detect_encoding(path)
    else:
        chosen = ""
    reader = reader_class(path, path.suffix.lower()[1:], chosen)
    try:
        reader._open()
    except BaseException:
        reader.close()
        raise
    return reader
