"""Row validation against the data contract: raw cells in, typed values or coded errors out.

One converter per column, built once per file; the per-row path is a loop over them with exceptions only for
bad cells, because a drop has millions of rows. Error codes are stable (they are in the error report and the
docs); messages say what was expected.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import phonenumbers
from stdnum.cn import ric

from xiaodai.ingest.contract import Column, Feed, Type
from xiaodai.ingest.readers import Formula

SHANGHAI = ZoneInfo("Asia/Shanghai")
# ASCII digits only: Python's \d also matches full-width ８, which Decimal() would silently accept.
_MONEY = re.compile(r"-?[0-9]{1,14}(?:\.[0-9]{1,2})?")
_RATE = re.compile(r"[0-9]{1,3}(?:\.[0-9]{1,4})?")
_INT = re.compile(r"-?[0-9]{1,12}")
_CODE = re.compile(r"[A-Za-z0-9_\-]+")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_FULL_WIDTH = re.compile(r"[\uff10-\uff19\uff0c\uff0e\uffe5]")
_TRUE = frozenset({"1", "true", "t", "y", "yes", "是"})
_FALSE = frozenset({"0", "false", "f", "n", "no", "否"})


class CellError(Exception):
    """One bad cell: a stable code and a message that says what was expected."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class RowProblem:
    line: int
    field: str
    code: str
    message: str
    value: str  # raw, unmasked: the report masks it (unless `masked`)
    masked: bool = False  # the lake masks its own values in DuckDB; masking twice garbles them


Converter = Callable[[str], Any]


def _money(text: str) -> Decimal:
    if _MONEY.fullmatch(text):
        return Decimal(text)
    if _FULL_WIDTH.search(text):
        raise CellError(
            "money_format", "full-width digits or punctuation; write amounts in ASCII, e.g. 1234.50"
        )
    if "," in text:
        raise CellError("money_format", "thousands separators are not allowed; write 1234567.89")
    raise CellError("money_format", "expected an amount in yuan with at most two decimals, e.g. 1234.50")


def _rate(text: str) -> Decimal:
    if _RATE.fullmatch(text):
        return Decimal(text)
    raise CellError("rate_format", "expected a percentage with at most four decimals, e.g. 3.65")


def _int(text: str) -> int:
    if _INT.fullmatch(text):
        return int(text)
    if _FULL_WIDTH.search(text):
        raise CellError("int_format", "full-width digits; write numbers in ASCII")
    raise CellError("int_format", "expected a whole number")


def _date(text: str) -> date:
    if _DATE.fullmatch(text):
        try:
            return date(int(text[:4]), int(text[5:7]), int(text[8:10]))
        except ValueError:
            pass
    raise CellError("date_format", "expected a date as YYYY-MM-DD")


def _datetime(text: str) -> datetime:
    if not text.isascii():
        raise CellError("datetime_format", "expected YYYY-MM-DD HH:MM:SS in ASCII digits (Beijing time)")
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise CellError("datetime_format", "expected YYYY-MM-DD HH:MM:SS (Beijing time)") from None
    # Bank extracts state Beijing time unless they carry an offset.
    return value if value.tzinfo else value.replace(tzinfo=SHANGHAI)


def _bool(text: str) -> bool:
    low = text.lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    raise CellError("bool_format", "expected 1 or 0")


def _code(max_length: int) -> Converter:
    def convert(text: str) -> str:
        if not _CODE.fullmatch(text):
            raise CellError("code_format", "codes hold only letters, digits, - and _")
        if max_length and len(text) > max_length:
            raise CellError("too_long", f"at most {max_length} characters")
        return text

    return convert


def _codes(max_length: int) -> Converter:
    one = _code(max_length)

    def convert(text: str) -> tuple[str, ...]:
        return tuple(sorted({one(part.strip()) for part in text.split("|") if part.strip()}))

    return convert


def _text(max_length: int) -> Converter:
    def convert(text: str) -> str:
        text = text.strip()
        if max_length and len(text) > max_length:
            raise CellError("too_long", f"at most {max_length} characters")
        return text

    return convert


def _choice(choices: tuple[str, ...]) -> Converter:
    allowed = frozenset(choices)
    listed = ", ".join(choices)

    def convert(text: str) -> str:
        if text in allowed:
            return text
        raise CellError("choice", f"must be one of: {listed}")

    return convert


_ID = re.compile(r"[0-9]{17}[0-9X]")
_ID_WEIGHTS = tuple(2 ** (17 - i) % 11 for i in range(17))


@lru_cache(maxsize=65_536)
def _region_known(prefix: str, year: int) -> bool:
    """stdnum's table of administrative divisions (which existed in which years); cached because a
    branch's customers share a few divisions and birth years."""
    try:
        ric.get_birth_place(f"{prefix}{year:04d}01010000")
    except Exception:  # stdnum raises InvalidComponent for an unknown division
        return False
    return True


def _id_number(text: str) -> str:
    """The checks of stdnum.cn.ric.validate (format, birth date, division, GB 11643 check digit), done inline:
    the library's per-call table look-up costs 130 µs, too much for a million rows."""
    text = text.strip().upper()
    if not _ID.fullmatch(text):
        raise CellError("id_format", "a resident ID number has 17 digits and a check digit (0-9 or X)")
    total = sum(int(d) * w for d, w in zip(text, _ID_WEIGHTS, strict=False))
    if "10X98765432"[total % 11] != text[17]:
        raise CellError("id_checksum", "not a valid resident ID number (GB 11643 check digit)")
    try:
        born = date(int(text[6:10]), int(text[10:12]), int(text[12:14]))
    except ValueError:
        raise CellError("id_birth_date", "the birth date inside the ID number is not a date") from None
    if not _region_known(text[:6], born.year):
        raise CellError("id_region", "the ID number's first six digits are no administrative division")
    return text


# phonenumbers' verdict per 7-digit number block (号段) 1000000-1999999, one byte each (0: not asked yet,
# 1: valid, 2: not): a million customers' mobiles span some 300,000 blocks, more than an LRU cache of
# strings could hold in little memory; this table is 1 MB whatever the drop.
_BLOCKS = bytearray(1_000_000)


def _mobile_block_valid(block: str) -> bool:
    """phonenumbers' verdict for a 7-digit block starting with 1: mainland mobile validity is decided by the
    leading digits, so one look-up serves every number of the block (a test holds this against the library
    itself)."""
    at = int(block) - 1_000_000
    verdict = _BLOCKS[at]
    if not verdict:
        try:
            valid = phonenumbers.is_valid_number(phonenumbers.parse(block + "0000", "CN"))
        except phonenumbers.NumberParseException:
            valid = False
        verdict = _BLOCKS[at] = 1 if valid else 2
    return verdict == 1


def _mobile(text: str) -> str:
    digits = text.strip().replace(" ", "").replace("-", "")
    if digits.startswith("+86"):
        digits = digits[3:]
    shaped = len(digits) == 11 and digits.isascii() and digits.isdigit() and digits[0] == "1"
    if shaped and _mobile_block_valid(digits[:7]):
        return digits
    raise CellError("mobile_format", "not a valid mainland mobile number (11 digits)")


def converter_for(column: Column) -> Converter:
    """The function that turns one non-empty cell of `column` into its value."""
    if column.list_of_codes:
        return _codes(column.max_length)
    simple: dict[Type, Converter] = {
        Type.MONEY: _money,
        Type.RATE: _rate,
        Type.INT: _int,
        Type.DATE: _date,
        Type.DATETIME: _datetime,
        Type.BOOL: _bool,
        Type.ID_NUMBER: _id_number,
        Type.MOBILE: _mobile,
    }
    if column.type in simple:
        return simple[column.type]
    if column.type is Type.CODE:
        return _code(column.max_length)
    if column.type is Type.CHOICE:
        return _choice(column.choices)
    return _text(column.max_length)


class RowValidator:
    """Validates the rows of one file of `feed`, whose header has already been checked."""

    def __init__(
        self,
        feed: Feed,
        header: list[str],
        data_date: date,
        *,
        formulas: bool = True,
        duplicates: bool = True,
    ) -> None:
        self.feed = feed
        self.formulas = formulas  # only spreadsheets carry formula cells
        # Staged feeds find duplicate keys in the staging table instead: memory must not grow with the file.
        self.duplicates = duplicates
        self.width = len(header)
        position = {name: i for i, name in enumerate(header)}
        self.order = [position[name] for name in feed.column_names]  # contract order from file order
        self.columns = feed.columns
        self.converters = [converter_for(col) for col in feed.columns]
        self.required = [col.required for col in feed.columns]
        latest_day = data_date + timedelta(days=1)  # a day's slack for time zones at the cut-off
        self.latest_date = latest_day
        self.latest_datetime = datetime(latest_day.year, latest_day.month, latest_day.day, tzinfo=SHANGHAI)
        self.not_future = [i for i, col in enumerate(feed.columns) if col.not_after_data_date]
        self.minimum = [
            (i, Decimal(col.min_value)) for i, col in enumerate(feed.columns) if col.min_value is not None
        ]
        self.key_index = [feed.column_names.index(k) for k in feed.key]
        # Keys as joined strings: strings are not tracked by the garbage collector, tuples of millions are.
        self.seen: dict[str, int] = {}
        self.cross = _checks(feed)
        self.plan = list(zip(self.order, self.converters, strict=True))
        self.required_at = [i for i, needed in enumerate(self.required) if needed]

    def check(self, line: int, cells: list[str | None]) -> tuple[list[Any] | None, list[RowProblem]]:
        """(values in contract order, []) for a good row; (None, problems) for a bad one."""
        if len(cells) != self.width:
            found = len(cells)
            message = f"expected {self.width} cells, found {found}"
            return None, [RowProblem(line, "", "column_count", message, "")]
        # Fast path for the common good row; any doubt falls through to the cell-by-cell pass that names
        # every problem.
        try:
            values = [None if (raw := cells[j]) is None else conv(raw) for j, conv in self.plan]
        except CellError:
            return self._explain(line, cells)
        for i in self.required_at:
            if values[i] is None or values[i] == "":
                return self._explain(line, cells)
        if self.formulas and any(type(cell) is Formula for cell in cells):
            return self._explain(line, cells)
        return self._row_rules(line, cells, values)

    def _explain(self, line: int, cells: list[str | None]) -> tuple[list[Any] | None, list[RowProblem]]:
        values: list[Any] = []
        problems: list[RowProblem] = []
        for i, index in enumerate(self.order):
            raw = cells[index]
            if raw is None or raw == "" or (isinstance(raw, str) and raw.isspace()):
                if self.required[i]:
                    problems.append(
                        RowProblem(line, self.columns[i].name, "required", "a value is required", "")
                    )
                values.append(None)
                continue
            if isinstance(raw, Formula):
                message = "Excel formulas are not accepted; paste the values"
                problems.append(RowProblem(line, self.columns[i].name, "formula", message, str(raw)))
                values.append(None)
                continue
            try:
                values.append(self.converters[i](raw))
            except CellError as exc:
                problems.append(RowProblem(line, self.columns[i].name, exc.code, exc.message, raw))
                values.append(None)
        if problems:
            return None, problems
        return self._row_rules(line, cells, values)

    def _row_rules(
        self, line: int, cells: list[str | None], values: list[Any]
    ) -> tuple[list[Any] | None, list[RowProblem]]:
        problems: list[RowProblem] = []
        for i in self.not_future:
            value = values[i]
            if value is None:
                continue
            late = value >= self.latest_datetime if isinstance(value, datetime) else value > self.latest_date
            if late:
                name = self.columns[i].name
                message = "lies after the drop's data date"
                problems.append(RowProblem(line, name, "future_date", message, str(cells[self.order[i]])))
        for i, minimum in self.minimum:
            if values[i] is not None and values[i] < minimum:
                name = self.columns[i].name
                problems.append(
                    RowProblem(
                        line, name, "negative", f"must be at least {minimum}", str(cells[self.order[i]])
                    )
                )
        if self.cross is not None and not problems:
            problems.extend(self.cross(line, values))
        if problems:
            return None, problems
        if not self.duplicates:
            return values, []
        key = "\x1f".join(str(values[i]) for i in self.key_index)
        first = self.seen.get(key)
        if first is not None:
            message = f"the same key as line {first}"
            return None, [
                RowProblem(line, ",".join(self.feed.key), "duplicate_key", message, key.replace("\x1f", "|"))
            ]
        self.seen[key] = line
        return values, []


def _checks(feed: Feed) -> Callable[[int, list[Any]], list[RowProblem]] | None:
    """Rules across columns of one row, with column positions looked up once per file."""
    at = {name: i for i, name in enumerate(feed.column_names)}

    def over(values: list[Any], line: int, part: str, whole: str, code: str) -> list[RowProblem]:
        small, big = values[at[part]], values[at[whole]]
        if small is not None and big is not None and small > big:
            return [RowProblem(line, part, code, f"{part} exceeds {whole}", f"{small} > {big}")]
        return []

    def before(values: list[Any], line: int, first: str, then: str, message: str) -> list[RowProblem]:
        if values[at[then]] < values[at[first]]:
            return [RowProblem(line, then, "date_order", message, "")]
        return []

    if feed.name == "credit_lines":
        return lambda line, v: (
            over(v, line, "drawn", "limit", "drawn_over_limit")
            + before(v, line, "approved_on", "expires_on", "expires before it was approved")
        )
    if feed.name == "loans":
        return lambda line, v: (
            over(v, line, "balance", "amount", "balance_over_amount")
            + before(v, line, "disbursed_on", "matures_on", "matures before it was disbursed")
        )
    if feed.name == "cards":
        return lambda line, v: over(v, line, "used", "limit", "used_over_limit")
    if feed.name == "contacts":
        kind, value = at["kind"], at["value"]

        def mobile(line: int, v: list[Any]) -> list[RowProblem]:
            if v[kind] != "mobile":
                return []
            try:
                _mobile(v[value])
            except CellError as exc:
                return [RowProblem(line, "value", exc.code, exc.message, v[value])]
            return []

        return mobile
    return None
