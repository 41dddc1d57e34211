"""Bell (Canada): the real exports' headers, the writers that produce them, and round trips
through ingest (ACC / DTL / MOB CSVs and the five Enterprise Center XLSX reports)."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from piiscan.ingest import bell as bell_steps
from piiscan.ingest import carriers
from piiscan.ingest.carriers import FileContext
from piiscan.ingest.detection import detect_columns, detect_text
from piiscan.layouts import Layout
from piiscan.layouts.bell import (
    BELL_ACCOUNT,
    BELL_CALL_DETAIL,
    BELL_COST_OVERVIEW,
    BELL_HARDWARE,
    BELL_INVOICE_CHARGES,
    BELL_MOBILE,
    BELL_USAGE_OVERVIEW,
    BELL_USER_PROFILE,
)
from piiscan.pipeline.ingest import ingest_paths
from piiscan.policy import Config
from piiscan.storage import LocalStorage
from piiscan.testing.common import Expected
from piiscan.testing.model import Invoice, World
from piiscan.testing.usage import usage_chunks
from piiscan.testing.writers_bell import province_taxes, write_bell_invoice
from piiscan.types import FileResult

SEED = 11
EVENTS = 6
# A January invoice: its DTL holds December dates that belong to the year before.
CYCLES = (date(2025, 12, 16), date(2026, 1, 16))

# Header lines as REAL_EXPORTS.md lists them (read off the real files).
REAL_ACC = (
    "Acct Nbr, Invc Date, Prev Bal, Prev Adj-M, Prev Adj-A, Paymt Recvd, Paymy Retn, Bal Owing, "
    "Late PayChg, Monthly Chg, Other Chg, Usage, Long Distan, Acct Adj, Acct Disc, Cur Chg Ttl, "
    "Ttl Amt Due, PO Nbr, GST RefNbr, QST RefNbr, GST, HST, HST-PEI Tel, HST-ON Tel, HST-BC Tel, "
    "ORST, QST - Telec, QST - Other, P.E.I. PST, BC PST, Sask, Manitoba, Foreign tax, Grp Sh Min, "
    "Sh Min Used, Grp Sh MB, Sh MB Used, Grp Sh Evts, Sh Evt Used, Grp Sh Call, Sh Call Use"
)
REAL_ACC_FR = (
    "Num compte, Date fact, Solde pr�c, Redress-M, Redr pr�c-C, Paiem re�us, Paiem ret, "
    "Solde impay, Sup retard, Frais mens, Autres fr, Fr d'util, Interurbain, Redr compte, "
    "EscAccCpte, Tot fr cour, Tot mont d�, Num bon com, Num inscr, TVQ - num inscr, TPS, TVH, "
    "TVH �P� Tel, TVHO Tel, TVHBC Tel, TVO, TVQ - t�l�c, TVQ - autre, TVP �P�, TVP CB, "
    "TVP - Sask, TVP - Man, Tx autr pay, Min � part, Min part ut, Mo � part, Mo part ut, "
    "�v�n � part, �v part ut, App � part, App part ut"
)
REAL_DTL = (
    "Acct Nbr, Invc Date, Mobile Nbr, CallSeq, Date, Time, C, D, Orig Place, PR, Called Nbr, "
    "Called Loc, PR, Duration, Rate, Usage Amt, LD Chg, Call Cost, ACB, ACB - GST, ACB - HST, "
    "ACB - PST, PC, M, PktDvol, R, Desc, Event Type, Billed by, Period"
)
REAL_DTL_FR = (
    "Num compte, Date fact, Num tél mo, Séq app, Date, Heure, C, D, Orig-appel, Pv, Num comp, "
    "Circ app, Pr, Durée, Tarif, Fr d'util, Fr d'inter, Fr d'appel, FDC, FDC - TPS, FDC - TVH, "
    "TVP, PC, A, TfactTP, R, Description, Type d'événem, Fctré par, Période"
)
REAL_MOB = (
    "Acct Nbr, Invc Date, Mobile Nbr, Surname, Given Name, Ref Nbr, Group Subscriber, Category, "
    "SubCategory, Adj App Ttl, Mth Chg Ttl, Ftr Chg Ttl, Air Dur, Airtime Chg, Data Chg, "
    "Roamer Chg, Roamer LD, LD Chg, Other Chgs, Disc Ttl, Ttl Charges, Txt Msg, Txt Msg Amt, "
    "Data Dur, LD Dur, Roam Dur, Rmdatdur, Rm datachrg, PktDtVol, Pkt Dat Amt, GST, HST, "
    "HST-PEI Tel, HST-ON Tel, HST-BC Tel, ORST, QST - Telec, QST - Other, P.E.I. PST, BC PST, "
    "Sask, Manitoba, Foreign tax, 10-4P Dr, 10-4 P Amt, 10-4G Dr, 10-4 G Amt, 10-4 Rmr, "
    "10-4 Rm Amt, Min day, Min W/E, Min nght, RLprevmin, RLminelig, RLminused, RLBexpmin, "
    "RLtotal, Grp Sh Min, Sh Min Used, Grp Sh MB, Sh MB Used, Grp Sh Evts, Sh Evt Used, "
    "Grp Sh Call, Sh Call Use"
)
REAL_MOB_FR = (
    "Num compte, Date fact, Num tél mo, Nom, Prénom, Num référ, Abonné de groupe, Catégorie, "
    "Sous-catégorie, Total-redr, Tot fr mens, Fr option, Durtemps, Fr temps, Fr données, "
    "Fr itinér, Fr int itin, Fr d'inter, Autres fr, Esc total, Tot fr cour, MessTxt, "
    "Tot MessTxt, Dur don, Durinter, Dur itin, Intdndur, Fraisintdon, Vol TP, Utilis TP, TPS, "
    "TVH, TVH ÎPÉ Tel, TVHO Tel, TVHBC Tel, TVO, TVQ - téléc, TVQ - autre, TVP ÎPÉ, TVP CB, "
    "TVP - Sask, TVP - Man, Tx autr pay, Du 10-4P, Frais 10-4P, Du 10-4G, Frais 10-4G, It 10-4, "
    "Fr it 10-4, Min jour, Min W/E, Min soir, MinTrAnt, MinAdmTr, MinAdmUt, MinExpFct, TotMinTr, "
    "Min à part, Min part ut, Mo à part, Mo part ut, Évén à part, Év part ut, App à part, "
    "App part ut"
)
REAL_HARDWARE = (
    "Invoice date, Group ID, Group name, Account number, Account name, Device type, "
    "Mobile number, User last name, User first name, Status, Category, Sub-category, "
    "Reference #, PO number, Activation date, Deactivation date, Network Sub Type, ESN/IMEI, "
    "SIM number, Model code, Model description, Hardware upgrade eligibility date, Report Date"
)
REAL_CHARGES = (
    "Invoice date, Group ID, Group name, Account number, Account name, Mobile number, "
    "User last name, User first name, Status, Category, Sub-category, Reference #, PO number, "
    "Activation date, Deactivation date, Network Sub Type, ESN/IMEI, Model code, "
    "Model description, SIM number, Device type, Charge type, Charge name, Charge amount, "
    "ADJ/Discount, Total before taxes, Charge taxes, From, To"
)
REAL_COST_HEAD = (
    "Invoice date, Group ID, Group name, Account number, Account name, Device type, "
    "Mobile number, User last name, User first name, Status, Category, Sub-category, "
    "Reference #, PO number, Activation date, Network Sub Type, ESN/IMEI, Model code, "
    "Model description, SIM number, Deactivation date, Current adjustments, Rate plan charges, "
    "Feature charges, Other charges and credits, Total usage, GST, HST, ORST, QST - telecom, "
    "QST - other, P.E.I., BC PST, Sask, Manitoba, Foreign tax, Total taxes, HST-PEI Tel, "
    "HST-ON tel, HST-BC tel, Total invoice"
)
REAL_USAGE_HEAD = (
    "Invoice date, Group ID, Group name, Account number, Account name, Device type, "
    "Mobile number, User last name, User first name, Status, Category, Sub-category, "
    "Reference #, PO number, Activation date, Deactivation date, Network Sub Type, ESN/IMEI, "
    "Model code, Model description, SIM number, Total airtime minutes"
)
REAL_PROFILE_HEAD = (
    "Invoice date, Group ID, Group name, Account number, Account name, Account address, "
    "Account status, Device type, Mobile number, User last name, User first name, Status, "
    "Category, Sub-category, Reference #, PO number, Activation date, Network Sub Type, "
    "ESN/IMEI, Model code, Model description, SIM number, Deactivation date, Rate plan code, "
    "Rate plan name, Rate plan charges, Included minutes, Included MB, Feature charges, "
    "Total RC charges, Hardware upgrade eligibility date, Report Date"
)


def _split(text: str) -> list[str]:
    return text.split(", ")


@pytest.mark.parametrize(
    ("layout", "english", "french"),
    [
        (BELL_ACCOUNT, REAL_ACC, REAL_ACC_FR),
        (BELL_CALL_DETAIL, REAL_DTL, REAL_DTL_FR),
        (BELL_MOBILE, REAL_MOB, REAL_MOB_FR),
    ],
    ids=["ACC", "DTL", "MOB"],
)
def test_csv_layouts_have_the_real_english_and_french_headers(
    layout: Layout, english: str, french: str
) -> None:
    assert layout.headers == _split(english)
    assert [c.french for c in layout.columns] == _split(french)
    assert (layout.header_rows, layout.encoding) == (2, "iso-8859-1")


@pytest.mark.parametrize(
    ("layout", "headers", "whole"),
    [
        (BELL_HARDWARE, REAL_HARDWARE, True),
        (BELL_INVOICE_CHARGES, REAL_CHARGES, True),
        (BELL_COST_OVERVIEW, REAL_COST_HEAD, False),
        (BELL_USAGE_OVERVIEW, REAL_USAGE_HEAD, False),
        (BELL_USER_PROFILE, REAL_PROFILE_HEAD, False),
    ],
    ids=["hardware", "charges", "cost", "usage", "profile"],
)
def test_report_layouts_have_the_real_headers(layout: Layout, headers: str, whole: bool) -> None:
    wanted = _split(headers)
    assert layout.headers == wanted if whole else layout.headers[: len(wanted)] == wanted
    assert len(set(layout.headers)) == len(layout.headers)


def test_report_layouts_are_complete() -> None:
    assert len(BELL_COST_OVERVIEW.headers) == 84 and "Total roaming charges " in (
        BELL_COST_OVERVIEW.headers
    )
    assert len(BELL_USAGE_OVERVIEW.headers) == 80
    assert BELL_USER_PROFILE.headers[-1] == "iPhone Visual Voicemail ( SVVMCAPOP )"


@pytest.mark.parametrize(
    ("name", "layout"),
    [
        ("double_header_MOB.csv", BELL_MOBILE),
        ("double_header_DTL.csv", BELL_CALL_DETAIL),
        ("double_header_ACC.csv", BELL_ACCOUNT),
        ("test-Hardware report.xlsx", BELL_HARDWARE),
        ("test-Enhanced User profile report.xlsx", BELL_USER_PROFILE),
        ("test-Cost overview.xlsx", BELL_COST_OVERVIEW),
        ("test-Invoice charge report.xlsx", BELL_INVOICE_CHARGES),
        ("test-Usage overview.xlsx", BELL_USAGE_OVERVIEW),
    ],
)
def test_real_file_names_match_by_their_suffix(name: str, layout: Layout) -> None:
    assert layout.matches_name(name)


# --- writers ------------------------------------------------------------------------------------


def _invoices(world: World) -> list[Invoice]:
    account = world.account("globex", "bell", "########", 5, CYCLES[0])
    return [world.invoice(account, cycle, i == 1) for i, cycle in enumerate(CYCLES)]


def write_world(out: Path, seed: int = SEED) -> tuple[list[Invoice], list[Expected], list[int]]:
    """Two bill cycles of one account (the last with the five reports); the DTL seeds."""
    world = World(seed)
    invoices = _invoices(world)
    expected, seeds = [], []
    for invoice in invoices:
        seeds.append(world.rng.randint(0, 2**31))
        expected += write_bell_invoice(
            out / "globex" / "bell",
            out,
            invoice,
            world,
            EVENTS,
            seeds[-1],
            invoice is invoices[-1],
        )
    return invoices, expected, seeds


@pytest.fixture(scope="module")
def written(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, list[Invoice], list[Expected], list[int]]:
    out = tmp_path_factory.mktemp("bell")
    return out, *write_world(out)


def _one(written: Any, layout: Layout, cycle: date = CYCLES[-1]) -> tuple[Path, Expected]:
    out, _, expected, _ = written
    [entry] = [
        e for e in expected if e.layout == layout.name and f"_{cycle:%Y%m}" in Path(e.file).name
    ]
    return out / entry.file, entry


def _cells(path: Path, encoding: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_bytes().decode(encoding), newline="")))


def test_same_seed_gives_identical_bytes(tmp_path: Path) -> None:
    first, second = write_world(tmp_path / "a")[1], write_world(tmp_path / "b")[1]
    assert first == second and len(first) == 2 * 3 + 5
    for entry in first:
        assert (tmp_path / "a" / entry.file).read_bytes() == (
            tmp_path / "b" / entry.file
        ).read_bytes()


def test_file_names_are_bell_s(written: Any) -> None:
    _, _, expected, _ = written
    names = sorted(Path(e.file).name for e in expected)
    assert sum(n.endswith(("_MOB.csv", "_DTL.csv", "_ACC.csv")) for n in names) == 6
    reports = [n for n in names if n.endswith(".xlsx")]
    assert all(re.fullmatch(r"Bell_\d+_202601-[A-Za-z ]+\.xlsx", n) for n in reports), reports


@pytest.mark.parametrize("layout", [BELL_MOBILE, BELL_CALL_DETAIL], ids=["MOB", "DTL"])
def test_mob_and_dtl_are_latin1_with_english_then_french_header(
    written: Any, layout: Layout
) -> None:
    path, entry = _one(written, layout)
    raw = path.read_bytes()
    assert "Num tél mo".encode("iso-8859-1") in raw
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    rows = _cells(path, "iso-8859-1")
    assert [c.strip() for c in rows[0]] == layout.headers
    assert [c.strip() for c in rows[1]] == [c.french for c in layout.columns]
    assert len(rows) - 2 == entry.rows
    assert layout.matches_name(path.name)


def test_every_cell_is_space_padded(written: Any) -> None:
    for layout, encoding in (
        (BELL_MOBILE, "latin-1"),
        (BELL_CALL_DETAIL, "latin-1"),
        (BELL_ACCOUNT, "utf-8"),
    ):
        path, _ = _one(written, layout)
        rows = _cells(path, encoding)
        widths = [len(cell) for cell in rows[0]]
        assert rows[0][0].startswith("Acct Nbr ")
        for row in rows[1:]:
            assert [len(cell) for cell in row] == widths, layout.name
    mob = _cells(_one(written, BELL_MOBILE)[0], "iso-8859-1")
    at = {h.strip(): i for i, h in enumerate(mob[0])}
    assert all(re.fullmatch(r" +\d+\.\d\d", row[at["Ttl Charges"]]) for row in mob[2:])
    assert all(re.fullmatch(r" *\d+:[0-5]\d", row[at["Air Dur"]]) for row in mob[2:])
    assert all(re.fullmatch(r"\d{4}/\d\d/\d\d", row[at["Invc Date"]]) for row in mob[2:])


def test_dtl_is_fully_quoted_with_mmdd_dates_and_24_hour_times(written: Any) -> None:
    path, _ = _one(written, BELL_CALL_DETAIL)
    lines = path.read_bytes().decode("iso-8859-1").splitlines()
    assert all(line.startswith('"') and line.endswith('"') for line in lines)
    assert all(line.count('","') == len(BELL_CALL_DETAIL.headers) - 1 for line in lines)
    rows = _cells(path, "iso-8859-1")[2:]
    assert all(re.fullmatch(r"(12|01)/\d\d", row[4].strip()) for row in rows)
    assert all(re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", row[5].strip()) for row in rows)
    assert {row[4].strip()[:2] for row in rows} == {"12", "01"}


def test_acc_is_damaged_like_the_real_one(written: Any) -> None:
    path, entry = _one(written, BELL_ACCOUNT)
    text = path.read_bytes().decode("utf-8")
    assert "Solde pr\ufffdc" in text.splitlines()[1]
    assert (entry.dataset, entry.rows) == (None, 0)


def test_mob_sums_match_the_file(written: Any) -> None:
    path, expected = _one(written, BELL_MOBILE)
    rows = _cells(path, "iso-8859-1")
    at = {h.strip(): i for i, h in enumerate(rows[0])}

    def cell(row: list[str], header: str) -> str:
        return row[at[header]].strip()

    data = rows[2:]
    minutes = sum(
        int(cell(r, "Air Dur").split(":")[0]) + int(cell(r, "Air Dur").split(":")[1]) / 60
        for r in data
    )
    taxes = [
        Decimal(cell(r, c.header))
        for r in data
        for c in BELL_MOBILE.columns
        if c.target in bell_steps.MOB_TAXES and cell(r, c.header)
    ]
    assert float(expected.sums["minutes"]) == pytest.approx(minutes, abs=1e-3)
    assert Decimal(expected.sums["charge"]) == sum(Decimal(cell(r, "Ttl Charges")) for r in data)
    assert Decimal(expected.sums["tax"]) == sum(taxes, Decimal(0))
    assert int(expected.sums["messages"]) == sum(int(cell(r, "Txt Msg")) for r in data)


@pytest.mark.parametrize(
    ("province", "total", "columns"),
    [
        ("QC", "14.98", {"GST", "QST"}),
        ("ON", "13.00", {"HST"}),
        ("NS", "7.31", {"HST"}),
        ("BC", "12.01", {"GST", "PST"}),
        ("SK", "1.00", {"GST", "PST"}),
        ("AB", "5.55", {"GST"}),
        ("NU", "2.10", {"GST"}),
    ],
)
def test_province_taxes_split_the_line_tax(province: str, total: str, columns: set[str]) -> None:
    split = province_taxes(province, Decimal(total))
    assert set(split) == columns
    assert sum(split.values(), Decimal(0)) == Decimal(total)
    assert all(
        amount >= 0 and amount == amount.quantize(Decimal("0.01")) for amount in split.values()
    )


def test_reports_are_real_xlsx_with_numeric_identifiers_and_date_cells(written: Any) -> None:
    import fastexcel

    path, entry = _one(written, BELL_HARDWARE)
    reader = fastexcel.read_excel(str(path))
    assert reader.sheet_names == ["Hardware report"]
    frame = pl.read_excel(path, engine="calamine")
    assert frame.columns == BELL_HARDWARE.headers and frame.height == entry.rows
    assert frame.schema["Mobile number"] in (pl.Int64, pl.Float64)
    assert frame.schema["ESN/IMEI"] in (pl.Int64, pl.Float64)
    assert isinstance(frame.schema["Report Date"], pl.Date | pl.Datetime)


# --- round trip ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ingested(
    written: Any, config: Config, tmp_path_factory: pytest.TempPathFactory
) -> tuple[LocalStorage, dict[str, FileResult]]:
    out, _, expected, _ = written
    storage = LocalStorage(tmp_path_factory.mktemp("lake"))
    paths = [out / e.file for e in expected]
    summary = ingest_paths(storage, config.customer("globex"), paths, "run-bell")
    return storage, {r.file: r for r in summary.files}


def _landed(storage: LocalStorage, result: FileResult, dataset: str) -> pl.DataFrame:
    keys = [k for k in result.outputs if k.startswith(f"restricted/{dataset}/")]
    return pl.concat([pl.read_parquet(storage.uri(k)) for k in keys])


def test_every_data_row_lands_and_none_is_rejected(written: Any, ingested: Any) -> None:
    storage, results = ingested
    _, _, expected, _ = written
    for entry in expected:
        result = results[Path(entry.file).name]
        assert (result.status, result.rows_rejected) == (entry.outcome, 0), (entry.file, result)
        assert result.layouts == (entry.layout,)
        if entry.dataset is None:
            continue
        assert result.rows == {entry.dataset: entry.rows}, entry.file
        landed = _landed(storage, result, entry.dataset)
        assert landed.height == entry.rows
        for measure, want in entry.sums.items():
            got = landed[measure].sum()
            if measure in ("charge", "tax"):
                assert Decimal(str(got)) == Decimal(want), (entry.file, measure)
            else:
                assert float(got) == pytest.approx(float(want), abs=1e-3), (entry.file, measure)


def test_acc_is_a_reference_file_with_its_reason(written: Any, ingested: Any) -> None:
    _, results = ingested
    _, _, expected, _ = written
    for entry in [e for e in expected if e.layout == BELL_ACCOUNT.name]:
        result = results[Path(entry.file).name]
        assert (result.status, result.reason_code) == (entry.outcome, entry.reason)
        assert (result.reason_code, result.rows, result.rows_reference) == ("reference_file", {}, 1)
        assert "no line-level data" in (result.reason or "") and result.outputs == ()


def test_periods_follow_invoice_dates_events_and_report_dates(written: Any, ingested: Any) -> None:
    _, results = ingested
    _, _, expected, _ = written
    periods: dict[str, set[str]] = {}
    for entry in expected:
        for key in results[Path(entry.file).name].outputs:
            period = re.search(r"period=(\d{4}-\d\d)", key)
            assert period
            periods.setdefault(entry.layout or "", set()).add(period.group(1))
    assert periods["bell_mobile"] == {"2025-12", "2026-01"}
    assert periods["bell_call_detail"] == {"2025-11", "2025-12", "2026-01"}
    for layout in ("bell_hardware_report", "bell_cost_overview", "bell_usage_overview"):
        assert periods[layout] == {"2026-01"}


def test_call_detail_events_get_their_year_from_the_invoice(written: Any, ingested: Any) -> None:
    storage, results = ingested
    _, invoices, _, seeds = written
    for invoice, seed in zip(invoices, seeds, strict=True):
        path, _ = _one(written, BELL_CALL_DETAIL, invoice.bill_cycle_date)
        landed = _landed(storage, results[path.name], "usage_events")
        truth = pl.concat(list(usage_chunks(invoice, EVENTS, seed)))
        key = ["wireless_number", "event_time"]
        assert landed.select(key).sort(key).equals(truth.select(key).sort(key))
        assert landed["kind"].sort().to_list() == truth["kind"].sort().to_list()
        assert set(landed["other_number"].drop_nulls()) == set(truth["other_number"].drop_nulls())
        assert (landed["bill_cycle_date"] == invoice.bill_cycle_date).all()
        extras = [json.loads(e) for e in landed["extras"]]
        assert {e["origination_province"] for e in extras} <= {"QC", "ON"}
        assert all("destination_province" in e for e in extras)


def test_names_and_identifiers_land_as_the_writer_made_them(written: Any, ingested: Any) -> None:
    storage, results = ingested
    _, invoices, _, _ = written
    lines = {line.number: line for line in invoices[-1].account.lines}
    for layout in (BELL_MOBILE, BELL_COST_OVERVIEW, BELL_HARDWARE, BELL_USER_PROFILE):
        path, _ = _one(written, layout)
        landed = _landed(storage, results[path.name], layout.dataset or "")
        assert set(landed["wireless_number"]) == set(lines), layout.name
        for row in landed.iter_rows(named=True):
            line = lines[row["wireless_number"]]
            assert row["user_name"] == line.person.full_name
            assert row["account_number"] == invoices[-1].account.number
            if layout.dataset == "devices":
                assert (row["imei"], row["iccid"]) == (line.imei, line.iccid)  # no .0, no E+
                assert row["model"] == f"{line.make} {line.model}"
                assert row["report_date"] == CYCLES[-1]
                assert row["activation_date"] == line.activation_date
                assert row["deactivation_date"] == line.deactivation_date
        assert not any("surname" in e or "given_name" in e for e in landed["extras"].drop_nulls())


# --- steps and detection ------------------------------------------------------------------------


def test_dtl_year_comes_from_the_invoice_month() -> None:
    frame = pl.DataFrame(
        {
            "bill_cycle_date": [date(2026, 1, 16)] * 3 + [date(2026, 10, 16)],
            "date_mmdd": ["12/20", "01/05", "13/01", "10/01"],
            "time_hhmm": ["23:59", "00:00", "10:00", "17:05"],
            "event_type": ["Voice", "Text", "Data", "Long distance"],
            "minutes": [1.5, 0.0, 0.0, 2.0],
            "data_kb": [0.0, 0.0, 10.0, 0.0],
        },
    )
    out = bell_steps.call_detail(frame, FileContext("x_DTL.csv"))
    assert out["event_time"].to_list() == [
        datetime(2025, 12, 20, 23, 59),
        datetime(2026, 1, 5, 0, 0),
        None,
        datetime(2026, 10, 1, 17, 5),
    ]
    assert out[bell_steps.POST_ERROR].is_null().to_list() == [True, True, False, True]
    assert out["kind"].to_list() == ["voice", "sms", "data", "voice"]
    assert out["messages"].to_list() == [0, 1, 0, 0]


def test_post_error_column_is_the_carriers_one() -> None:
    assert bell_steps.POST_ERROR == carriers.POST_ERROR
    assert {n for n in carriers.STEPS if n.startswith("bell_")} == {
        "bell_mobile",
        "bell_call_detail",
        "bell_account",
        "bell_user_profile_report",
        "bell_hardware_report",
        "bell_cost_overview",
        "bell_invoice_charge_report",
        "bell_usage_overview",
    }


@pytest.mark.parametrize("french", ["Solde pr\ufffdc", "Solde préc"], ids=["damaged", "latin-1"])
def test_acc_header_is_matched_on_its_english_line(french: str) -> None:
    english = ",".join(f"{h:<12}" for h in BELL_ACCOUNT.headers)
    second = ",".join(f"{c.french or '':<12}" for c in BELL_ACCOUNT.columns)
    encoding = "utf-8"  # as the damaged real file
    if "\ufffd" not in french:  # the header as Bell writes it, accents in ISO-8859-1
        second, encoding = second.replace("\ufffd", "é"), "iso-8859-1"
    head = (english + "\n" + second + "\n").encode(encoding)
    layout, header, *_ = detect_text("double_header_ACC.csv", head)
    assert layout is BELL_ACCOUNT and header.data_line == 3


@pytest.mark.parametrize(
    ("layout", "name"),
    [(BELL_MOBILE, "export.csv"), (BELL_CALL_DETAIL, "calls.csv"), (BELL_ACCOUNT, "acct.csv")],
)
def test_a_renamed_csv_is_known_by_its_english_header(layout: Layout, name: str) -> None:
    english = ",".join(f'"{h}  "' for h in layout.headers)
    french = ",".join(f'"{c.french}"' for c in layout.columns).replace("\ufffd", "?")
    found, header, *_ = detect_text(name, (english + "\n" + french + "\n").encode("iso-8859-1"))
    assert found is layout
    if layout is BELL_CALL_DETAIL:
        assert header.names.count("PR") == 1 and "PR (2)" in header.names


@pytest.mark.parametrize(
    "layout",
    [
        BELL_HARDWARE,
        BELL_USER_PROFILE,
        BELL_COST_OVERVIEW,
        BELL_INVOICE_CHARGES,
        BELL_USAGE_OVERVIEW,
    ],
)
def test_a_renamed_report_is_known_by_its_columns(layout: Layout) -> None:
    assert detect_columns("report.xlsx", tuple(layout.headers), "xlsx")[0] is layout


def test_an_imei_from_a_number_cell_gets_its_leading_zero_back() -> None:
    cells = pl.Series(["13327003030808", "353911101234565", "12345678901234", None])
    assert bell_steps._zero_restored(cells).to_list() == [
        "013327003030808",  # 0 + 14 digits is Luhn-valid: Excel dropped the zero
        "353911101234565",
        "12345678901234",  # not an IMEI with a zero either: left as delivered
        None,
    ]
