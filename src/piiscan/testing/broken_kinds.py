"""Kinds of broken input, one crafted file each, and the reason code ingest must quarantine it with.

The companion of the broken set (piiscan.testing.broken, real carrier files with one damage
each): these are hostile or malformed files of every format ingest reads (delimited text, zip
archives, XLSX workbooks, Parquet) and names no lake key can hold. Each is written for a customer
with the `generic` carrier (layouts over canonical columns), so that what stops it is its damage,
never its layout. The size kinds are written against KIND_LIMITS (small limits, so a bomb stays a
few kilobytes on disk); tests ingest the kinds with those limits.

`good_files` writes files of each format that must land beside the broken ones.
"""

from __future__ import annotations

import codecs
import gzip
import io
import struct
import warnings
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import xlsxwriter

from piiscan.policy import IngestLimits

KIND_LIMITS = IngestLimits.model_validate(
    {"max_member_bytes": "8 MiB", "max_archive_bytes": "16 MiB", "max_line_bytes": "64 KiB"}
)
HEADER = ("wireless_number", "report_date", "imei", "make", "model")
# Fictional numbers (NXX 555-01XX); tests check no reason quotes one of them.
NUMBERS = tuple(f"21255501{i:02d}" for i in range(20))
IMEIS = tuple(f"3539110{i:08d}" for i in range(20))


def rows(count: int = 5, start: int = 0) -> list[list[str]]:
    """Valid devices rows (generic layout): number, report date, IMEI, make, model."""
    return [
        [NUMBERS[i % 20], "2026-10-16", IMEIS[i % 20], "Apple", "iPhone 15"]
        for i in range(start, start + count)
    ]


def csv_text(body: list[list[str]], header: tuple[str, ...] = HEADER, end: str = "\n") -> str:
    """Comma-separated text with a header."""
    return "".join(",".join(row) + end for row in [list(header), *body])


def _zip(members: list[tuple[str, bytes]], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, data in members:
            archive.writestr(name, data)
    return buffer.getvalue()


def _patched(data: bytes, local: dict[int, bytes], central: dict[int, bytes]) -> bytes:
    """A one-member zip with bytes replaced at offsets of its local and central headers."""
    out = bytearray(data)
    at = out.find(b"PK\x01\x02")
    for offset, value in local.items():
        out[offset : offset + len(value)] = value
    for offset, value in central.items():
        out[at + offset : at + offset + len(value)] = value
    return bytes(out)


def _workbook(path: Path, sheets: list[tuple[str, list[list[str]]]], merge: bool = False) -> None:
    book = xlsxwriter.Workbook(str(path))
    for name, cells in sheets:
        sheet = book.add_worksheet(name)
        for r, row in enumerate(cells):
            for c, value in enumerate(row):
                if value.startswith("="):
                    sheet.write_formula(r, c, value, None, "#DIV/0!")
                else:
                    sheet.write_string(r, c, value)
        if merge:
            sheet.merge_range(0, 0, 0, len(HEADER) - 1, "Devices of October", None)
    book.close()


def _table(**extra: pa.Array) -> pa.Table:
    count = len(next(iter(extra.values()))) if extra else 3
    return pa.table(
        {
            "wireless_number": [NUMBERS[i % len(NUMBERS)] for i in range(count)],
            "report_date": ["2026-10-16"] * count,
            **extra,
        }
    )


@dataclass(frozen=True)
class Kind:
    """One kind of broken input: what it is, the code it is quarantined with, how to write it."""

    name: str
    family: str  # text | archive | spreadsheet | parquet | name
    code: str
    write: Callable[[Path], Path]  # into a folder; returns the file written
    description: str


KINDS: list[Kind] = []


def kind(family: str, code: str) -> Callable[[Callable[[Path], Path]], Callable[[Path], Path]]:
    """Register a writer as a kind (its docstring describes it)."""

    def register(write: Callable[[Path], Path]) -> Callable[[Path], Path]:
        name = write.__name__.strip("_")
        KINDS.append(Kind(name, family, code, write, (write.__doc__ or "").strip()))
        return write

    return register


def _file(folder: Path, name: str, data: bytes | str) -> Path:
    path = folder / name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


# --- delimited text --------------------------------------------------------------------------


@kind("text", "binary")
def random_bytes(folder: Path) -> Path:
    """Random bytes under a CSV name."""
    junk = bytes((i * 7919 + 13) % 256 for i in range(4096))
    return _file(folder, "devices_random.csv", junk)


@kind("text", "binary")
def nul_bytes(folder: Path) -> Path:
    """A good header, then rows full of NUL bytes."""
    return _file(folder, "devices_nul.csv", csv_text(rows()).encode() + b"\x00" * 512 + b"\n")


@kind("text", "wrong_encoding")
def utf16_without_bom(folder: Path) -> Path:
    """Good rows encoded as UTF-16 LE without a byte-order mark."""
    return _file(folder, "devices_utf16.csv", csv_text(rows()).encode("utf-16-le"))


@kind("text", "wrong_encoding")
def utf32_with_bom(folder: Path) -> Path:
    """Good rows encoded as UTF-32 with its byte-order mark."""
    data = codecs.BOM_UTF32_LE + csv_text(rows()).encode("utf-32-le")
    return _file(folder, "devices_utf32.csv", data)


@kind("text", "wrong_encoding")
def latin1_bytes(folder: Path) -> Path:
    """A UTF-8 layout's file with an ISO-8859-1 model name further down."""
    body = rows(4)
    body[3][4] = "Téléphone"
    return _file(folder, "devices_latin1.csv", csv_text(body).encode("iso-8859-1"))


@kind("text", "unreadable")
def cr_only_line_ends(folder: Path) -> Path:
    """Lines ended by a carriage return alone (classic Mac OS)."""
    return _file(folder, "devices_cr.csv", csv_text(rows(), end="\r"))


@kind("text", "empty")
def bom_only(folder: Path) -> Path:
    """A UTF-8 byte-order mark and nothing else."""
    return _file(folder, "devices_bom.csv", codecs.BOM_UTF8)


@kind("text", "empty")
def blank_lines_only(folder: Path) -> Path:
    """Blank lines and spaces."""
    return _file(folder, "devices_blank.csv", "\n \r\n\t\n\n")


@kind("text", "no_rows_landed")
def header_only(folder: Path) -> Path:
    """A header and no rows."""
    return _file(folder, "devices_header.csv", csv_text([]))


@kind("text", "no_rows_landed")
def ragged_first_row(folder: Path) -> Path:
    """One data row, with two fields more than the header."""
    return _file(folder, "devices_ragged.csv", csv_text([[*rows(1)[0], "x", "y"]]))


@kind("text", "unreadable")
def unclosed_quote(folder: Path) -> Path:
    """A row whose first field opens a quote that never closes."""
    body = rows(1)
    body[0][0] = '"' + body[0][0]
    return _file(folder, "devices_quote.csv", csv_text(body))


@kind("text", "too_large")
def huge_field(folder: Path) -> Path:
    """A row whose model field is longer than the line limit."""
    body = rows(3)
    body[1][4] = "M" * (KIND_LIMITS.max_line_bytes + 10)
    return _file(folder, "devices_field.csv", csv_text(body))


@kind("text", "too_large")
def one_endless_line(folder: Path) -> Path:
    """Several times the line limit without a line end."""
    return _file(folder, "devices_endless.csv", "2125550100," * KIND_LIMITS.max_line_bytes)


@kind("text", "too_large")
def header_over_line_limit(folder: Path) -> Path:
    """A header longer than the line limit, then good rows."""
    extra = tuple(f"x{i}" for i in range(KIND_LIMITS.max_line_bytes // 4))
    body = [[*row, *([""] * len(extra))] for row in rows()]
    return _file(folder, "devices_wide.csv", csv_text(body, (*HEADER, *extra)))


@kind("text", "bad_header")
def wrong_separator(folder: Path) -> Path:
    """Semicolons where the layout has commas."""
    return _file(folder, "devices_semicolon.csv", csv_text(rows()).replace(",", ";"))


@kind("text", "bad_header")
def duplicate_column(folder: Path) -> Path:
    """The IMEI column twice."""
    body = [[*row, row[2]] for row in rows()]
    return _file(folder, "devices_twice.csv", csv_text(body, (*HEADER, "imei")))


@kind("text", "unknown_layout")
def html_page(folder: Path) -> Path:
    """A portal's login page saved under a CSV name."""
    page = "<!DOCTYPE html>\n<html><head><title>Sign in</title></head>\n<body>\n</body></html>\n"
    return _file(folder, "export_202610.csv", page)


@kind("text", "binary")
def gzip_under_csv_name(folder: Path) -> Path:
    """Gzip-compressed rows under a CSV name."""
    return _file(folder, "devices_gz.csv", gzip.compress(csv_text(rows()).encode(), mtime=0))


@kind("text", "no_rows_landed")
def every_row_invalid(folder: Path) -> Path:
    """Rows whose wireless numbers are words."""
    body = [["not-a-number", *row[1:]] for row in rows()]
    return _file(folder, "devices_words.csv", csv_text(body))


@kind("text", "unknown_layout")
def separators_only(folder: Path) -> Path:
    """Lines of commas."""
    return _file(folder, "export_commas.csv", ",,,,\n,,,,\n,,,,\n")


# --- zip archives ----------------------------------------------------------------------------


def _good_zip() -> bytes:
    return _zip([("devices_1.csv", csv_text(rows()).encode())])


@kind("archive", "bad_archive")
def zip_encrypted(folder: Path) -> Path:
    """A member flagged as encrypted (password-protected)."""
    data = _good_zip()
    flags = struct.unpack_from("<H", data, 6)[0] | 1
    return _file(
        folder,
        "devices_encrypted.zip",
        _patched(data, {6: struct.pack("<H", flags)}, {8: struct.pack("<H", flags)}),
    )


@kind("archive", "bad_archive")
def zip_unsupported_method(folder: Path) -> Path:
    """A member compressed with deflate64 (method 9), which zipfile cannot read."""
    method = struct.pack("<H", 9)
    return _file(folder, "devices_deflate64.zip", _patched(_good_zip(), {8: method}, {10: method}))


@kind("archive", "too_large")
def zip_bomb_member(folder: Path) -> Path:
    """One member that decompresses past the per-member limit (a few KB on disk)."""
    data = _zip([("devices_1.csv", b"0" * (KIND_LIMITS.max_member_bytes + 1))])
    return _file(folder, "devices_bomb.zip", data)


@kind("archive", "too_large")
def zip_bomb_archive(folder: Path) -> Path:
    """Members each under the per-member limit that together pass the archive's."""
    member = b"0" * (KIND_LIMITS.max_member_bytes - 1)
    count = KIND_LIMITS.max_archive_bytes // len(member) + 1
    return _file(
        folder, "devices_bombs.zip", _zip([(f"devices_{i}.csv", member) for i in range(count)])
    )


@kind("archive", "bad_archive")
def zip_lying_size(folder: Path) -> Path:
    """A member whose headers declare fewer bytes than it decompresses to."""
    data = _zip([("devices_1.csv", csv_text(rows(50)).encode())])
    size = struct.pack("<I", 100)
    return _file(folder, "devices_lying.zip", _patched(data, {22: size}, {24: size}))


@kind("archive", "too_large")
def zip_one_long_line(folder: Path) -> Path:
    """A member holding one line longer than the line limit (a few KB on disk)."""
    line = csv_text([]).encode() + b"2125550100" * KIND_LIMITS.max_line_bytes
    return _file(folder, "devices_line.zip", _zip([("devices_1.csv", line)]))


@kind("archive", "bad_archive")
def zip_nested(folder: Path) -> Path:
    """A zip inside the zip."""
    return _file(folder, "devices_nested.zip", _zip([("inner.zip", _good_zip())]))


@kind("archive", "bad_archive")
def zip_path_traversal(folder: Path) -> Path:
    """A member named ../../ out of any folder it would be extracted to."""
    data = _zip([("../../devices_1.csv", csv_text(rows()).encode())])
    return _file(folder, "devices_traversal.zip", data)


@kind("archive", "bad_archive")
def zip_absolute_member(folder: Path) -> Path:
    """A member named by an absolute path."""
    data = _zip([("/tmp/devices_1.csv", csv_text(rows()).encode())])
    return _file(folder, "devices_absolute.zip", data)


@kind("archive", "empty")
def zip_empty_member(folder: Path) -> Path:
    """A good member and a 0-byte one."""
    data = _zip([("devices_1.csv", csv_text(rows()).encode()), ("devices_2.csv", b"")])
    return _file(folder, "devices_emptymember.zip", data)


@kind("archive", "bad_archive")
def zip_without_members(folder: Path) -> Path:
    """An archive with no members at all."""
    return _file(folder, "devices_nomembers.zip", _zip([]))


@kind("archive", "bad_archive")
def zip_only_folders(folder: Path) -> Path:
    """An archive holding folders and no file."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.mkdir("october")
        archive.mkdir("october/devices")
    return _file(folder, "devices_folders.zip", buffer.getvalue())


@kind("archive", "bad_archive")
def zip_truncated(folder: Path) -> Path:
    """The first half of an archive."""
    data = _zip([("devices_1.csv", csv_text(rows(200)).encode())])
    return _file(folder, "devices_truncated.zip", data[: len(data) // 2])


@kind("archive", "bad_archive")
def zip_bad_crc(folder: Path) -> Path:
    """A stored member one byte of which changed after its CRC was taken."""
    data = bytearray(_zip([("devices_1.csv", csv_text(rows()).encode())], zipfile.ZIP_STORED))
    at = 30 + len("devices_1.csv") + 40
    data[at] = ord("9") if data[at] != ord("9") else ord("8")
    return _file(folder, "devices_crc.zip", bytes(data))


@kind("archive", "bad_archive")
def zip_duplicate_member(folder: Path) -> Path:
    """The same member name twice."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive, warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # zipfile warns of the name it repeats
        for start in (0, 5):
            archive.writestr("devices_1.csv", csv_text(rows(5, start)))
    return _file(folder, "devices_duplicate.zip", buffer.getvalue())


@kind("archive", "binary")
def zip_binary_member(folder: Path) -> Path:
    """A member of binary junk."""
    junk = bytes((i * 131 + 7) % 256 for i in range(2048))
    return _file(folder, "devices_junk.zip", _zip([("devices_1.csv", junk)]))


@kind("archive", "wrong_encoding")
def zip_utf16_member(folder: Path) -> Path:
    """A member in UTF-16 with its byte-order mark."""
    data = codecs.BOM_UTF16_LE + csv_text(rows()).encode("utf-16-le")
    return _file(folder, "devices_utf16.zip", _zip([("devices_1.csv", data)]))


# --- XLSX workbooks --------------------------------------------------------------------------


@kind("spreadsheet", "unreadable")
def xlsx_not_a_workbook(folder: Path) -> Path:
    """A zip of a CSV file under an XLSX name."""
    return _file(folder, "devices_fake.xlsx", _good_zip())


@kind("spreadsheet", "bad_archive")
def xlsx_truncated(folder: Path) -> Path:
    """The first half of a workbook."""
    path = folder / "devices_cut.xlsx"
    _workbook(path, [("Devices", [list(HEADER), *rows(50)])])
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


@kind("spreadsheet", "empty")
def xlsx_empty_sheet(folder: Path) -> Path:
    """A workbook whose only sheet has no cells."""
    path = folder / "devices_empty.xlsx"
    _workbook(path, [("Devices", [])])
    return path


@kind("spreadsheet", "no_rows_landed")
def xlsx_header_only(folder: Path) -> Path:
    """A sheet with a header row and nothing under it."""
    path = folder / "devices_headeronly.xlsx"
    _workbook(path, [("Devices", [list(HEADER)])])
    return path


@kind("spreadsheet", "no_rows_landed")
def xlsx_formula_errors(folder: Path) -> Path:
    """Rows whose wireless numbers are formulas that evaluate to #DIV/0!."""
    path = folder / "devices_formulas.xlsx"
    _workbook(path, [("Devices", [list(HEADER), *[["=1/0", *row[1:]] for row in rows()]])])
    return path


@kind("spreadsheet", "bad_header")
def xlsx_merged_header(folder: Path) -> Path:
    """A title merged over the header's cells where the header should be."""
    path = folder / "devices_merged.xlsx"
    _workbook(path, [("Devices", [["Devices of October"], list(HEADER), *rows()])], merge=True)
    return path


@kind("spreadsheet", "bad_header")
def xlsx_unknown_second_sheet(folder: Path) -> Path:
    """A good devices sheet beside a sheet no layout fits (it must not be lost silently)."""
    path = folder / "devices_twosheets.xlsx"
    notes = [["Region", "Store", "Units"], ["North", "S101", "12"]]
    _workbook(path, [("Devices", [list(HEADER), *rows()]), ("Sales", notes)])
    return path


@kind("spreadsheet", "too_large")
def xlsx_bomb(folder: Path) -> Path:
    """A workbook with a part that decompresses past the per-member limit."""
    path = folder / "devices_bomb.xlsx"
    _workbook(path, [("Devices", [list(HEADER), *rows()])])
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/media/pad.bin", b"\x00" * (KIND_LIMITS.max_member_bytes + 1))
    return path


@kind("spreadsheet", "binary")
def xls_legacy(folder: Path) -> Path:
    """An OLE compound document (a legacy .xls or a password-protected workbook)."""
    header = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504
    return _file(folder, "devices_legacy.xlsx", header + b"\xff" * 1024)


# --- Parquet ---------------------------------------------------------------------------------


def _parquet(folder: Path, name: str, table: pa.Table, **options: int) -> Path:
    path = folder / name
    pq.write_table(table, path, **options)
    return path


@kind("parquet", "bad_column_type")
def parquet_list_column(folder: Path) -> Path:
    """A column of lists."""
    return _parquet(folder, "devices_list.parquet", _table(imei=pa.array([[1, 2]] * 3)))


@kind("parquet", "bad_column_type")
def parquet_binary_column(folder: Path) -> Path:
    """A column of raw bytes that are no text."""
    return _parquet(folder, "devices_binary.parquet", _table(imei=pa.array([b"\xff\x00"] * 3)))


@kind("parquet", "bad_column_type")
def parquet_struct_column(folder: Path) -> Path:
    """A column of structs."""
    return _parquet(folder, "devices_struct.parquet", _table(imei=pa.array([{"tac": 1}] * 3)))


@kind("parquet", "bad_column_type")
def parquet_map_column(folder: Path) -> Path:
    """A column of maps."""
    values = pa.array([[("a", 1)]] * 3, type=pa.map_(pa.string(), pa.int64()))
    return _parquet(folder, "devices_map.parquet", _table(imei=values))


@kind("parquet", "unreadable")
def parquet_truncated_footer(folder: Path) -> Path:
    """A Parquet file cut before the end of its footer."""
    path = _parquet(folder, "devices_footer.parquet", _table(imei=pa.array(IMEIS[:3])))
    data = path.read_bytes()
    path.write_bytes(data[:-12])
    return path


@kind("parquet", "no_rows_landed")
def parquet_zero_rows(folder: Path) -> Path:
    """The right columns and no row."""
    empty = pa.table(
        {"wireless_number": pa.array([], pa.string()), "report_date": pa.array([], pa.string())}
    )
    return _parquet(folder, "devices_zero.parquet", empty)


@kind("parquet", "unreadable")
def parquet_corrupt_page(folder: Path) -> Path:
    """A data page overwritten with junk (its footer intact)."""
    table = _table(imei=pa.array([f"3539110{i:08d}" for i in range(3)]))
    path = _parquet(folder, "devices_page.parquet", table, data_page_size=64)
    data = bytearray(path.read_bytes())
    for at in range(8, min(len(data) // 2, 200)):
        data[at] = 0xFF
    path.write_bytes(bytes(data))
    return path


@kind("parquet", "bad_header")
def parquet_duplicate_columns(folder: Path) -> Path:
    """Two columns of one name."""
    table = pa.Table.from_arrays(
        [pa.array(NUMBERS[:3]), pa.array(["2026-10-16"] * 3), pa.array(NUMBERS[:3])],
        names=["wireless_number", "report_date", "wireless_number"],
    )
    return _parquet(folder, "devices_dupes.parquet", table)


@kind("parquet", "too_large")
def parquet_huge_row_group(folder: Path) -> Path:
    """A row group that decodes past the per-member limit."""
    count = 2000
    width = KIND_LIMITS.max_member_bytes // count + 100
    table = _table(model=pa.array([f"{i:08d}".ljust(width, "M") for i in range(count)]))
    return _parquet(folder, "devices_rowgroup.parquet", table)


# --- names -----------------------------------------------------------------------------------


@kind("name", "bad_name")
def name_too_long(folder: Path) -> Path:
    """Good rows under a 250-byte name (its quarantine objects could not be named)."""
    return _file(folder, "devices_" + "x" * 238 + ".csv", csv_text(rows(5, 1)))


@kind("name", "bad_name")
def name_with_backslash(folder: Path) -> Path:
    """Good rows under a name with a backslash (a path separator elsewhere)."""
    return _file(folder, "devices_a\\b.csv", csv_text(rows(5, 2)))


@kind("name", "bad_name")
def name_with_newline(folder: Path) -> Path:
    """Good rows under a name with a line end (it would break logs)."""
    return _file(folder, "devices_a\nb.csv", csv_text(rows(5, 3)))


def write_kinds(folder: Path) -> dict[str, tuple[Kind, Path]]:
    """Every kind written into folder: name -> (kind, file)."""
    folder.mkdir(parents=True, exist_ok=True)
    return {k.name: (k, k.write(folder)) for k in KINDS}


def good_files(folder: Path) -> list[Path]:
    """Files of every format that land (devices of the generic layouts)."""
    folder.mkdir(parents=True, exist_ok=True)
    text = _file(folder, "devices_good.csv", csv_text(rows(5, 0)))
    archive = _file(
        folder, "devices_good.zip", _zip([("devices_1.csv", csv_text(rows(5, 5)).encode())])
    )
    book = folder / "devices_good.xlsx"
    _workbook(book, [("Devices", [list(HEADER), *rows(5, 10)])])
    table = _table(imei=pa.array(IMEIS[15:18]))
    parquet = _parquet(folder, "devices_good.parquet", table)
    return [text, archive, book, parquet]
