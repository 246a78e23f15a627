"""Readers: one file in, raw rows out; whole-file problems as coded FileProblems. No database needed."""

from __future__ import annotations

import hashlib
import tracemalloc
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from openpyxl import Workbook

from xiaodai.ingest.readers import FileProblem, Formula, detect_encoding, open_table, sha256_of


def write(tmp_path: Path, name: str, data: bytes | str) -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def read_all(path: Path, encoding: str | None = None) -> list[tuple[int, list[str | None]]]:
    with open_table(path, encoding=encoding) as reader:
        return list(reader.rows())


def problem(path: Path, encoding: str | None = None) -> FileProblem:
    with pytest.raises(FileProblem) as caught:
        read_all(path, encoding)
    return caught.value


# --- encodings ---------------------------------------------------------------------------------------------


def test_utf8_is_detected(tmp_path: Path) -> None:
    path = write(tmp_path, "c.csv", "name,city\n张三,北京\n")
    with open_table(path) as reader:
        assert reader.encoding == "utf-8"
        assert list(reader.rows()) == [(2, ["张三", "北京"])]


def test_utf8_bom_is_stripped_from_the_header(tmp_path: Path) -> None:
    path = write(tmp_path, "c.csv", b"\xef\xbb\xbfname,city\n" + "张三,北京\n".encode())
    with open_table(path, encoding="utf-8-sig") as reader:
        assert (reader.encoding, reader.header) == ("utf-8", ["name", "city"])


def test_gbk_bytes_are_detected_as_gb18030(tmp_path: Path) -> None:
    path = write(tmp_path, "c.csv", "姓名,城市\n张三,北京\n".encode("gbk"))
    assert detect_encoding(path) == "gb18030"
    with open_table(path) as reader:
        assert reader.header == ["姓名", "城市"]
        assert list(reader.rows()) == [(2, ["张三", "北京"])]


def test_declared_gbk_is_normalised_to_gb18030(tmp_path: Path) -> None:
    path = write(tmp_path, "c.csv", "name\n张三\n".encode("gbk"))
    with open_table(path, encoding="GBK") as reader:
        assert reader.encoding == "gb18030"


def test_utf8_bom_outranks_a_declared_gbk(tmp_path: Path) -> None:
    path = write(tmp_path, "c.csv", b"\xef\xbb\xbf" + "name\n张三\n".encode())
    with open_table(path, encoding="gbk") as reader:
        assert (reader.encoding, list(reader.rows())) == ("utf-8", [(2, ["张三"])])


def test_declared_utf8_on_a_gbk_file_is_an_encoding_problem(tmp_path: Path) -> None:
    path = write(tmp_path, "c.csv", "name,city\n张三,北京\n".encode("gbk"))
    found = problem(path, "utf-8")
    assert (found.code, found.line) == ("encoding", 2)
    assert "manifest.json" in found.message


def test_unsupported_declared_encoding_is_an_encoding_problem(tmp_path: Path) -> None:
    path = write(tmp_path, "c.csv", "name\nx\n")
    assert problem(path, "latin-1").code == "encoding"


def test_bytes_neither_utf8_nor_gb18030_are_an_encoding_problem(tmp_path: Path) -> None:
    path = write(tmp_path, "c.csv", b"name\n\x80\x80\x80\n")
    with pytest.raises(FileProblem) as caught:
        detect_encoding(path)
    assert caught.value.code == "encoding"


def test_multibyte_char_cut_by_the_sample_end_still_detects_utf8(tmp_path: Path) -> None:
    head = b"name\n" + b"a" * ((1 << 20) - 7) + b"\n"  # the sample ends one byte into the next character
    path = write(tmp_path, "c.csv", head + "张\n".encode())
    assert detect_encoding(path) == "utf-8"


def test_invalid_byte_after_a_valid_first_mib_is_an_encoding_problem_with_its_line(tmp_path: Path) -> None:
    line = "C0001,张三,北京\n".encode()
    count = (1 << 20) // len(line) + 1000
    data = b"code,name,city\n" + line * count + "C0002,李四,上海\n".encode("gbk") + line
    path = write(tmp_path, "c.csv", data)
    assert detect_encoding(path) == "utf-8"
    found = problem(path)
    assert (found.code, found.line) == ("encoding", count + 2)
    assert f"line {count + 2}" in found.message


# --- CSV structure -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("delimiter", "named"), [(";", "semicolon"), ("\t", "tab")])
def test_wrong_delimiter_is_a_delimiter_problem(tmp_path: Path, delimiter: str, named: str) -> None:
    path = write(tmp_path, "c.csv", f"a{delimiter}b{delimiter}c\n1{delimiter}2{delimiter}3\n")
    found = problem(path)
    assert found.code == "delimiter"
    assert named in found.message


@pytest.mark.parametrize("data", [b"", b"\xef\xbb\xbf", b" \r\n\n  \n"])
def test_empty_file_is_an_empty_file_problem(tmp_path: Path, data: bytes) -> None:
    assert problem(write(tmp_path, "c.csv", data)).code == "empty_file"


def test_header_only_file_yields_no_rows(tmp_path: Path) -> None:
    path = write(tmp_path, "c.csv", " code , name \n")
    with open_table(path) as reader:
        assert reader.header == ["code", "name"]
        assert list(reader.rows()) == []


def test_unterminated_quote_is_truncated(tmp_path: Path) -> None:
    path = write(tmp_path, "c.csv", 'code,note\nC1,ok\nC2,"cut off here\n')
    with open_table(path) as reader:
        rows = reader.rows()
        assert next(rows) == (2, ["C1", "ok"])
        with pytest.raises(FileProblem) as caught:
            next(rows)
    assert (caught.value.code, caught.value.line) == ("truncated", 3)


def test_last_line_cut_without_newline_is_truncated(tmp_path: Path) -> None:
    path = write(tmp_path, "c.csv", "code,name,city\nC1,张三,北京\nC2,李")
    with open_table(path) as reader:
        rows = reader.rows()
        assert next(rows) == (2, ["C1", "张三", "北京"])
        with pytest.raises(FileProblem) as caught:
            next(rows)
    assert (caught.value.code, caught.value.line) == ("truncated", 3)


def test_complete_last_line_without_newline_is_read(tmp_path: Path) -> None:
    path = write(tmp_path, "c.csv", "code,name\nC1,张三\nC2,李四")
    assert read_all(path) == [(2, ["C1", "张三"]), (3, ["C2", "李四"])]


def test_short_row_in_the_middle_is_yielded_as_is(tmp_path: Path) -> None:
    path = write(tmp_path, "c.csv", "a,b,c\n1,2,3\n4,5\n6,7,8,9\n")
    assert read_all(path) == [(2, ["1", "2", "3"]), (3, ["4", "5"]), (4, ["6", "7", "8", "9"])]


def test_empty_cells_become_none_and_values_keep_their_spaces(tmp_path: Path) -> None:
    path = write(tmp_path, "c.csv", "a,b,c\n, x ,\n")
    assert read_all(path) == [(2, [None, " x ", None])]


def test_empty_lines_are_skipped_and_line_numbers_stay_physical(tmp_path: Path) -> None:
    path = write(tmp_path, "c.csv", "a,b\r\n1,2\r\n\r\n3,4\r\n")
    assert read_all(path) == [(2, ["1", "2"]), (4, ["3", "4"])]


def test_quoted_embedded_newline_keeps_following_line_numbers_right(tmp_path: Path) -> None:
    path = write(tmp_path, "c.csv", 'code,note\nC1,"line one\nline two\nline three"\nC2,after\n')
    assert read_all(path) == [(2, ["C1", "line one\nline two\nline three"]), (5, ["C2", "after"])]


def test_stray_text_after_a_closing_quote_is_a_format_problem(tmp_path: Path) -> None:
    found = problem(write(tmp_path, "c.csv", 'code,note\nC1,"a"b\n'))
    assert (found.code, found.line) == ("format", 2)


def test_unknown_suffix_is_a_format_problem(tmp_path: Path) -> None:
    with pytest.raises(FileProblem) as caught:
        open_table(write(tmp_path, "loans.txt", "a,b\n"))
    assert caught.value.code == "format"


def test_suffix_is_case_insensitive(tmp_path: Path) -> None:
    with open_table(write(tmp_path, "loans.CSV", "a\n1\n")) as reader:
        assert reader.format == "csv"


# --- Excel -------------------------------------------------------------------------------------------------


def xlsx(tmp_path: Path, rows: list[list[object]]) -> Path:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    path = tmp_path / "loans.xlsx"
    book.save(path)
    return path


def test_xlsx_formula_cell_becomes_formula(tmp_path: Path) -> None:
    path = xlsx(tmp_path, [["a", "b"], [1, 2], ["=SUM(A1:A2)", "x"]])
    (_, cells) = read_all(path)[1]
    assert isinstance(cells[0], Formula)
    assert cells == ["=SUM(A1:A2)", "x"]


def test_xlsx_dates_and_datetimes(tmp_path: Path) -> None:
    row: list[object] = [date(2024, 3, 1), datetime(2024, 3, 1, 9, 30, 5), datetime(2024, 3, 2)]
    path = xlsx(tmp_path, [["d", "dt", "midnight"], row])
    assert read_all(path) == [(2, ["2024-03-01", "2024-03-01 09:30:05", "2024-03-02"])]


def test_xlsx_numbers_bools_and_empty_cells(tmp_path: Path) -> None:
    path = xlsx(tmp_path, [["i", "f", "whole", "tiny", "b", "e"], [42, 0.1, 5.0, 1e-05, True, None]])
    assert read_all(path) == [(2, ["42", "0.1", "5", "0.00001", "1", None])]


def test_xlsx_line_numbers_are_sheet_rows_and_empty_rows_are_skipped(tmp_path: Path) -> None:
    path = xlsx(tmp_path, [["a", "b"], ["x", "y"], [None, None], ["z", None], [None, None]])
    assert read_all(path) == [(2, ["x", "y"]), (4, ["z", None])]


def test_xlsx_header_is_stripped(tmp_path: Path) -> None:
    with open_table(xlsx(tmp_path, [[" code ", "name "], ["C1", "张三"]])) as reader:
        assert (reader.format, reader.encoding, reader.header) == ("xlsx", "", ["code", "name"])


def test_invalid_xlsx_is_unreadable(tmp_path: Path) -> None:
    assert problem(write(tmp_path, "loans.xlsx", b"not a zip")).code == "unreadable"


# --- Parquet -----------------------------------------------------------------------------------------------


def test_parquet_types_round_trip_as_strings(tmp_path: Path) -> None:
    table = pa.table(
        {
            "s": pa.array(["张三", "", None]),
            "i": pa.array([7, None, -3], pa.int64()),
            "f": pa.array([0.1, 5.0, 1e-05]),
            "m": pa.array([Decimal("12.30"), Decimal("0.00"), None], pa.decimal128(12, 2)),
            "b": pa.array([True, False, None]),
            "d": pa.array([date(2024, 3, 1), None, date(2024, 12, 31)]),
            "t": pa.array([datetime(2024, 3, 1, 9, 30, 5), datetime(2024, 3, 2), None], pa.timestamp("s")),
        }
    )
    path = tmp_path / "loans.parquet"
    pq.write_table(table, path)
    with open_table(path) as reader:
        assert (reader.format, reader.header) == ("parquet", ["s", "i", "f", "m", "b", "d", "t"])
        assert list(reader.rows()) == [
            (2, ["张三", "7", "0.1", "12.30", "1", "2024-03-01", "2024-03-01 09:30:05"]),
            (3, [None, None, "5", "0.00", "0", None, "2024-03-02"]),
            (4, [None, "-3", "0.00001", None, None, "2024-12-31", None]),
        ]


def test_parquet_rows_span_batches_with_consecutive_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({"n": pa.array(range(40_000))}), path)
    rows = read_all(path)
    assert (len(rows), rows[-1]) == (40_000, (40_001, ["39999"]))


def test_invalid_parquet_is_unreadable(tmp_path: Path) -> None:
    assert problem(write(tmp_path, "t.parquet", b"PAR1 not really")).code == "unreadable"


# --- streaming and hashing ---------------------------------------------------------------------------------


def test_large_csv_streams_in_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    row = "C00000001,张三,110101199001011234,13800138000,12345.67,3.65,2024-01-02,北京市朝阳区某某路1号\n"
    block = row * 10_000
    with open(path, "w", encoding="utf-8", newline="") as handle:
        handle.write("code,name,id,mobile,amount,rate,day,address\n")
        while handle.tell() < 60_000_000:
            handle.write(block)
    expected = (path.stat().st_size - 44) // len(row.encode())
    tracemalloc.start()
    try:
        with open_table(path) as reader:
            count = sum(1 for _ in reader.rows())
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert count == expected
    assert peak < 4_000_000  # the file is 60 MB


def test_sha256_of_matches_hashlib(tmp_path: Path) -> None:
    path = write(tmp_path, "c.csv", "a,b\n1,2\n" * 1000)
    assert sha256_of(path) == hashlib.sha256(path.read_bytes()).hexdigest()
