"""Bell (Canada) exports: the ACC / DTL / MOB invoice CSVs and the Enterprise Center XLSX reports.

The CSVs have two header lines, English then French, and every cell space-padded. They are read
as ISO-8859-1, which decodes any byte: one real ACC file is UTF-8 with U+FFFD already in its
French header, and only the English line is matched. `Invc Date` is YYYY/MM/DD; durations are
minutes:seconds (`1053:00`). MOB has no invoice number; DTL dates are MM/DD without a year
(piiscan.ingest.bell recovers it from the invoice date).

The XLSX reports hold real Excel dates (read as `YYYY-MM-DD HH:MM:SS`) and numeric cells; a
number cell holding a 10-digit mobile number or a 15-digit IMEI reads back as its digits.
"""

from __future__ import annotations

from dataclasses import replace

from piiscan.layouts.model import Column, Kind, Layout, c
from piiscan.schema import snake_case

INVOICE_DATE = "%Y/%m/%d"  # Invc Date: 2023/02/06
EXCEL_DATE = "%Y-%m-%d %H:%M:%S"  # an Excel date cell as the XLSX reader renders it


def _taxes() -> tuple[Column, ...]:
    """The sales-tax columns of ACC and MOB, with MOB's French headers."""
    names = (
        ("GST", "TPS", "gst"),
        ("HST", "TVH", "hst"),
        ("HST-PEI Tel", "TVH ÎPÉ Tel", "hst_pei_tel"),
        ("HST-ON Tel", "TVHO Tel", "hst_on_tel"),
        ("HST-BC Tel", "TVHBC Tel", "hst_bc_tel"),
        ("ORST", "TVO", "orst"),
        ("QST - Telec", "TVQ - téléc", "qst_telec"),
        ("QST - Other", "TVQ - autre", "qst_other"),
        ("P.E.I. PST", "TVP ÎPÉ", "pei_pst"),
        ("BC PST", "TVP CB", "bc_pst"),
        ("Sask", "TVP - Sask", "sask_pst"),
        ("Manitoba", "TVP - Man", "manitoba_pst"),
        ("Foreign tax", "Tx autr pay", "foreign_tax"),
    )
    return tuple(c(en, target, "money", french=fr) for en, fr, target in names)


MOB_TAXES = tuple(column.target for column in _taxes())

BELL_MOBILE = Layout(
    name="bell_mobile",
    carrier="bell",
    dataset="invoice_lines",
    file_pattern=r"_MOB\.(csv|txt)$",
    encoding="iso-8859-1",
    header_rows=2,
    description="Bell (Canada) MOB: one row per mobile line per invoice, English and French "
    "headers",
    columns=(
        c("Acct Nbr", "account_number", "id", required=True, french="Num compte"),
        c(
            "Invc Date",
            "bill_cycle_date",
            "date",
            required=True,
            fmt=INVOICE_DATE,
            french="Date fact",
        ),
        c("Mobile Nbr", "wireless_number", "phone", required=True, french="Num tél mo"),
        c("Surname", "surname", french="Nom"),
        c("Given Name", "given_name", french="Prénom"),
        c("Ref Nbr", "reference_number", french="Num référ"),
        c("Group Subscriber", "group_subscriber", french="Abonné de groupe"),
        c("Category", "category", french="Catégorie"),
        c("SubCategory", "sub_category", french="Sous-catégorie"),
        c("Adj App Ttl", "adjustments", "money", french="Total-redr"),
        c("Mth Chg Ttl", "monthly_charges", "money", french="Tot fr mens"),
        c("Ftr Chg Ttl", "feature_charges", "money", french="Fr option"),
        c("Air Dur", "minutes", "mmss", french="Durtemps"),
        c("Airtime Chg", "airtime_charges", "money", french="Fr temps"),
        c("Data Chg", "data_charges", "money", french="Fr données"),
        c("Roamer Chg", "roaming_charges", "money", french="Fr itinér"),
        c("Roamer LD", "roaming_ld_charges", "money", french="Fr int itin"),
        c("LD Chg", "ld_charges", "money", french="Fr d'inter"),
        c("Other Chgs", "other_charges", "money", french="Autres fr"),
        c("Disc Ttl", "discounts", "money", french="Esc total"),
        c("Ttl Charges", "charge", "money", required=True, french="Tot fr cour"),
        c("Txt Msg", "messages", "int", french="MessTxt"),
        c("Txt Msg Amt", "text_charges", "money", french="Tot MessTxt"),
        c("Data Dur", "data_duration", "mmss", french="Dur don"),
        c("LD Dur", "ld_minutes", "mmss", french="Durinter"),
        c("Roam Dur", "roaming_minutes", "mmss", french="Dur itin"),
        c("Rmdatdur", "roaming_data_duration", "mmss", french="Intdndur"),
        c("Rm datachrg", "roaming_data_charges", "money", french="Fraisintdon"),
        c("PktDtVol", "data_kb", "number", french="Vol TP"),  # packet data volume, KB
        c("Pkt Dat Amt", "packet_data_charges", "money", french="Utilis TP"),
        *_taxes(),
        c("10-4P Dr", "ptt_private_duration", french="Du 10-4P"),
        c("10-4 P Amt", "ptt_private_charges", "money", french="Frais 10-4P"),
        c("10-4G Dr", "ptt_group_duration", french="Du 10-4G"),
        c("10-4 G Amt", "ptt_group_charges", "money", french="Frais 10-4G"),
        c("10-4 Rmr", "ptt_roaming_duration", french="It 10-4"),
        c("10-4 Rm Amt", "ptt_roaming_charges", "money", french="Fr it 10-4"),
        c("Min day", "day_minutes", french="Min jour"),
        c("Min W/E", "weekend_minutes", french="Min W/E"),
        c("Min nght", "night_minutes", french="Min soir"),
        c("RLprevmin", "rollover_previous_minutes", french="MinTrAnt"),
        c("RLminelig", "rollover_eligible_minutes", french="MinAdmTr"),
        c("RLminused", "rollover_used_minutes", french="MinAdmUt"),
        c("RLBexpmin", "rollover_expired_minutes", french="MinExpFct"),
        c("RLtotal", "rollover_total_minutes", french="TotMinTr"),
        c("Grp Sh Min", "group_shared_minutes", french="Min à part"),
        c("Sh Min Used", "shared_minutes_used", french="Min part ut"),
        c("Grp Sh MB", "group_shared_mb", french="Mo à part"),
        c("Sh MB Used", "shared_mb_used", french="Mo part ut"),
        c("Grp Sh Evts", "group_shared_events", french="Évén à part"),
        c("Sh Evt Used", "shared_events_used", french="Év part ut"),
        c("Grp Sh Call", "group_shared_calls", french="App à part"),
        c("Sh Call Use", "shared_calls_used", french="App part ut"),
    ),
)

BELL_CALL_DETAIL = Layout(
    name="bell_call_detail",
    carrier="bell",
    dataset="usage_events",
    file_pattern=r"_DTL\.(csv|txt)$",
    encoding="iso-8859-1",
    header_rows=2,
    description="Bell (Canada) DTL: one row per call, message or data session, fully quoted",
    columns=(
        c("Acct Nbr", "account_number", "id", required=True, french="Num compte"),
        c(
            "Invc Date",
            "bill_cycle_date",
            "date",
            required=True,
            fmt=INVOICE_DATE,
            french="Date fact",
        ),
        c("Mobile Nbr", "wireless_number", "phone", required=True, french="Num tél mo"),
        c("CallSeq", "call_sequence", french="Séq app"),
        c("Date", "date_mmdd", required=True, french="Date"),  # MM/DD, no year
        c("Time", "time_hhmm", required=True, french="Heure"),  # 24-hour HH:MM
        c("C", "c", french="C"),
        c("D", "d", french="D"),
        c("Orig Place", "origination", french="Orig-appel"),
        c("PR", "origination_province", french="Pv"),
        c("Called Nbr", "other_number", "dialed", french="Num comp"),
        c("Called Loc", "destination", french="Circ app"),
        c("PR", "destination_province", french="Pr"),  # read as `PR (2)`
        c("Duration", "minutes", "mmss", french="Durée"),
        c("Rate", "rate", french="Tarif"),
        c("Usage Amt", "usage_charge", "money", french="Fr d'util"),
        c("LD Chg", "ld_charge", "money", french="Fr d'inter"),
        c("Call Cost", "charge", "money", required=True, french="Fr d'appel"),
        c("ACB", "acb", "money", french="FDC"),
        c("ACB - GST", "acb_gst", "money", french="FDC - TPS"),
        c("ACB - HST", "acb_hst", "money", french="FDC - TVH"),
        c("ACB - PST", "acb_pst", "money", french="TVP"),
        c("PC", "pc", french="PC"),
        c("M", "m", french="A"),
        c("PktDvol", "data_kb", "number", french="TfactTP"),  # packet data volume, KB
        c("R", "r", french="R"),
        c("Desc", "description", french="Description"),
        c("Event Type", "event_type", french="Type d'événem"),
        c("Billed by", "billed_by", french="Fctré par"),
        c("Period", "rate_period", french="Période"),
    ),
)

# The French header as the damaged real file has it (U+FFFD where accents were), kept exactly.
_ACC_FRENCH = (
    "Num compte",
    "Date fact",
    "Solde pr\ufffdc",
    "Redress-M",
    "Redr pr\ufffdc-C",
    "Paiem re\ufffdus",
    "Paiem ret",
    "Solde impay",
    "Sup retard",
    "Frais mens",
    "Autres fr",
    "Fr d'util",
    "Interurbain",
    "Redr compte",
    "EscAccCpte",
    "Tot fr cour",
    "Tot mont d\ufffd",
    "Num bon com",
    "Num inscr",
    "TVQ - num inscr",
)
_ACC_TAX_FRENCH = (
    "TPS",
    "TVH",
    "TVH \ufffdP\ufffd Tel",
    "TVHO Tel",
    "TVHBC Tel",
    "TVO",
    "TVQ - t\ufffdl\ufffdc",
    "TVQ - autre",
    "TVP \ufffdP\ufffd",
    "TVP CB",
    "TVP - Sask",
    "TVP - Man",
    "Tx autr pay",
)
_ACC_SHARED_FRENCH = (
    "Min \ufffd part",
    "Min part ut",
    "Mo \ufffd part",
    "Mo part ut",
    "\ufffdv\ufffdn \ufffd part",
    "\ufffdv part ut",
    "App \ufffd part",
    "App part ut",
)


def _acc_columns() -> tuple[Column, ...]:
    money: Kind = "money"
    head: tuple[tuple[str, str, Kind, bool], ...] = (
        ("Acct Nbr", "account_number", "id", True),
        ("Invc Date", "bill_cycle_date", "date", True),
        ("Prev Bal", "previous_balance", money, False),
        ("Prev Adj-M", "previous_adjustments_m", money, False),
        ("Prev Adj-A", "previous_adjustments_a", money, False),
        ("Paymt Recvd", "payments_received", money, False),
        ("Paymy Retn", "payments_returned", money, False),
        ("Bal Owing", "balance_owing", money, False),
        ("Late PayChg", "late_payment_charge", money, False),
        ("Monthly Chg", "monthly_charges", money, False),
        ("Other Chg", "other_charges", money, False),
        ("Usage", "usage_charges", money, False),
        ("Long Distan", "ld_charges", money, False),
        ("Acct Adj", "account_adjustments", money, False),
        ("Acct Disc", "account_discounts", money, False),
        ("Cur Chg Ttl", "current_charges", money, True),
        ("Ttl Amt Due", "total_amount_due", money, False),
        ("PO Nbr", "po_number", "text", False),
        ("GST RefNbr", "gst_registration", "text", False),
        ("QST RefNbr", "qst_registration", "text", False),
    )
    columns = [
        c(en, target, kind, required=req, french=fr, fmt=INVOICE_DATE if kind == "date" else None)
        for (en, target, kind, req), fr in zip(head, _ACC_FRENCH, strict=True)
    ]
    columns += [replace(t, french=fr) for t, fr in zip(_taxes(), _ACC_TAX_FRENCH, strict=True)]
    shared: tuple[str, ...] = ("Grp Sh Min", "Sh Min Used", "Grp Sh MB", "Sh MB Used")
    shared += ("Grp Sh Evts", "Sh Evt Used", "Grp Sh Call", "Sh Call Use")
    columns += [
        c(en, en.lower().replace(" ", "_"), french=fr)
        for en, fr in zip(shared, _ACC_SHARED_FRENCH, strict=True)
    ]
    return tuple(columns)


BELL_ACCOUNT = Layout(
    name="bell_account",
    carrier="bell",
    dataset=None,  # account-level totals only: no line data
    file_pattern=r"_ACC\.(csv|txt)$",
    encoding="iso-8859-1",
    header_rows=2,
    description="Bell (Canada) ACC: one row per account per invoice (balances, totals, taxes)",
    columns=_acc_columns(),
)

# --- Enterprise Center XLSX reports -------------------------------------------------------------

_LINE_HEAD = (
    c("Invoice date", "bill_cycle_date", "date", fmt=EXCEL_DATE),
    c("Group ID", "group_id"),
    c("Group name", "group_name"),
    c("Account number", "account_number", "id", required=True),
    c("Account name", "account_name"),
)
_USER = (
    c("Mobile number", "wireless_number", "phone", required=True),
    c("User last name", "user_last_name"),
    c("User first name", "user_first_name"),
    c("Status", "status"),
    c("Category", "category"),
    c("Sub-category", "sub_category"),
    c("Reference #", "reference_number"),
    c("PO number", "po_number"),
    c("Activation date", "activation_date", "date", fmt=EXCEL_DATE),
)
_DEVICE_TYPE = c("Device type", "device_type")
_NETWORK = c("Network Sub Type", "network_sub_type")
_IMEI = c("ESN/IMEI", "imei", "id")
_MODEL = (c("Model code", "model_code"), c("Model description", "model"))
_SIM = c("SIM number", "iccid", "id")
_DEACTIVATION = c("Deactivation date", "deactivation_date", "date", fmt=EXCEL_DATE)
_UPGRADE = c(
    "Hardware upgrade eligibility date", "upgrade_eligibility_date", "date", fmt=EXCEL_DATE
)
_REPORT_DATE = c("Report Date", "report_date", "date", required=True, fmt=EXCEL_DATE)


def _required(column: Column) -> Column:
    return replace(column, required=True)


def _report(name: str, dataset: str, report: str, columns: tuple[Column, ...]) -> Layout:
    return Layout(
        name=name,
        carrier="bell",
        dataset=dataset,
        file_pattern=rf"-{report}\.xlsx$",
        format="xlsx",
        description=f"Bell Enterprise Center '{report}' report (XLSX)",
        columns=columns,
    )


def _amounts(headers: str, kind: Kind = "money") -> tuple[Column, ...]:
    """Measure columns kept as extras under their snake_case name (a comma-separated list)."""
    return tuple(c(h, snake_case(h), kind) for h in headers.split(", "))


BELL_HARDWARE = _report(
    "bell_hardware_report",
    "devices",
    "Hardware report",
    (
        *_LINE_HEAD,
        _DEVICE_TYPE,
        *_USER,
        _DEACTIVATION,
        _NETWORK,
        _IMEI,
        _SIM,
        *_MODEL,
        _UPGRADE,
        _REPORT_DATE,
    ),
)

_PROFILE_FEATURES = (
    "Alberta Government 911 fee ( S911ABMOP ), NS Govt 911 Fee ( S911NS_OP ), "
    "Quebec municipal 911 tax ( S911QN_OP ), Message Centre ( SBMSCF_OP ), "
    "Roam Flex Cuba - Data ( SCCUDTAFLX ), Roam flex Cuba - Text ( SCCUTXTFLX ), "
    "Roam flex Cuba - Voice ( SCCUVOIFLX ), Daily Roam ( SCDAILYROP ), "
    "Corporate Data Flex Zone 3 ( SCDFLEXZ3W ), Call Display ( SCDPF_OP ), "
    "Intl Long Distance Saver ( SCINTOV5OP ), Call Forwarding ( SCLFW_OP ), "
    "Corporate Data Flex USA ( SCRUSF40 ), Corporate Data Flex USA ( SCRUSF40W ), "
    "Corporate Voice Flex USA ( SCRUSVF1H ), Corp 5GB Share ( SCSS5GB_OP ), "
    "Corp 7GB Data Share ( SCSS7GB_OP ), Corporate Text Flex Zone3 ( SCTXFLXZ3 ), "
    "Unlimited International Text ( SCUINTXTOP ), No Canada to US LD charges ( SCUNCSFOP ), "
    "No Canada to US LD charges ( SCUNCSOP ), No Nationwide LD charges ( SCUNLDDOP ), "
    "Roam flex USA - Data ( SCUSDFLEX ), Roam Flex USA-Voice Text Data ( SCUSVDTFLX ), "
    "Corporate Voice Flex Zone3 ( SCVFLEXZ3N ), Roam flex Zone 1- Data ( SCZ1DFLEX ), "
    "Roam flex Zone 1 - Text ( SCZ1TFLEX ), Roam flex Zone 1- Voice ( SCZ1VFLEX ), "
    "Roam flex Zone 2- Data ( SCZ2DFLEX ), Roam flex Zone 2 - Text ( SCZ2TFLEX ), "
    "Roam flex Zone 2- Voice ( SCZ2VFLEX ), Unlimited Picture_Video Bundle ( SIVU_OP ), "
    "Member to Member Local Calling ( SMTMLGS_OP ), 5G Access - Corp ( SN5GTCORP ), "
    "Corp 5GB Share ( SSS5GBS_OP ), SmartShare Travel US Text 2000 ( SSSROAMT2T ), "
    "SmartShare Travel Group text ( SSSROAMTGS ), Unlimited Local Talking ( SUNLT_OP ), "
    "Can-Can Messaging - Unlimited ( SUTCTC_OPN ), iPhone Visual Voicemail ( SVVMCAPOP )"
)

# The real file's header is listed only this far; later columns are kept as extras.
BELL_USER_PROFILE = _report(
    "bell_user_profile_report",
    "devices",
    "Enhanced User profile report",
    (
        *_LINE_HEAD,
        c("Account address", "account_address"),
        c("Account status", "account_status"),
        _DEVICE_TYPE,
        *_USER,
        _NETWORK,
        _IMEI,
        *_MODEL,
        _SIM,
        _DEACTIVATION,
        _required(c("Rate plan code", "rate_plan_code")),
        c("Rate plan name", "plan"),
        c("Rate plan charges", "rate_plan_charges", "money"),
        c("Included minutes", "included_minutes", "number"),
        c("Included MB", "included_mb", "number"),
        c("Feature charges", "feature_charges", "money"),
        c("Total RC charges", "total_rc_charges", "money"),
        _UPGRADE,
        _REPORT_DATE,
        *_amounts(
            "Initial device credit, Initial port-in credit, Total initial credit, "
            "Device credit balance, Port-in credit balance, Total credit balance, "
            "Monthly depreciation of device credit, Monthly depreciation of port-in credit, "
            "Total monthly depreciation, Adjustments"
        ),
        *_amounts(_PROFILE_FEATURES),
    ),
)

_COST_COMPONENTS = (
    "Current adjustments, Rate plan charges, Feature charges, Other charges and credits, "
    "Total usage"
)
BELL_COST_OVERVIEW = _report(
    "bell_cost_overview",
    "invoice_lines",
    "Cost overview",
    (
        *[_required(col) if col.target == "bill_cycle_date" else col for col in _LINE_HEAD],
        _DEVICE_TYPE,
        *_USER,
        _NETWORK,
        _IMEI,
        *_MODEL,
        _SIM,
        _DEACTIVATION,
        *_amounts(_COST_COMPONENTS),
        *_amounts("GST, HST, ORST, QST - telecom, QST - other, P.E.I., BC PST, Sask, Manitoba"),
        c("Foreign tax", "foreign_tax", "money"),
        c("Total taxes", "tax", "money", required=True),
        *_amounts("HST-PEI Tel, HST-ON tel, HST-BC tel"),
        c("Total invoice", "total_invoice", "money", required=True),
        *_amounts(
            "Airtime charges, Domestic text charges, USA roaming text charges, "
            "INTL roaming text charges, Premium text charges, Other text charges, "
            "Total text charges, On device domestic data charges, Tether domestic data charges, "
            "Total domestic data charges, Canada to Canada long distance charges, "
            "CDN to USA LD charges, Canada to international long distance charges, "
            "Other long distance charges, USA voice roaming charges, USA data roaming charges, "
            "International voice roaming charges, International data usage charges"
        ),
        c("Total roaming charges ", "total_roaming_charges", "money"),  # sic: trailing space
        *_amounts(
            "411 charges, Zone 1 voice cost, Zone 2 voice cost, Zone 3 voice cost, "
            "Zone 4 Voice Cost, Zone 5 Voice Cost, Zone 1 data cost, Zone 2 data cost, "
            "Zone 3 data cost, Zone 4 Data Cost, Zone 5 Data Cost, "
            "Zone 1 (Switzerland) voice cost, Zone 1 (France) voice cost, "
            "Zone 1 (Japan) voice cost, Zone 2 (Costa Rica) voice cost, "
            "Zone 2 (Egypt) voice cost, Zone 1 (Switzerland) data cost, "
            "Zone 1 (Germany) data cost, Zone 1 (France) data cost, Zone 1 (Jamaica) data cost, "
            "Zone 1 (Japan) data cost, Zone 1 (Mexico) data cost, Zone 2 (Costa Rica) data cost, "
            "Zone 2 (Egypt) data cost"
        ),
    ),
)

BELL_INVOICE_CHARGES = _report(
    "bell_invoice_charge_report",
    "charge_items",
    "Invoice charge report",
    (
        *[_required(col) if col.target == "bill_cycle_date" else col for col in _LINE_HEAD],
        *_USER,
        _DEACTIVATION,
        _NETWORK,
        _IMEI,
        *_MODEL,
        _SIM,
        _DEVICE_TYPE,
        c("Charge type", "item_category", required=True),
        c("Charge name", "item_description"),
        c("Charge amount", "charge_amount", "money"),
        c("ADJ/Discount", "adjustment_discount", "money"),
        c("Total before taxes", "charge", "money", required=True),
        c("Charge taxes", "charge_taxes", "money"),
        c("From", "charge_from", "date", fmt=EXCEL_DATE),
        c("To", "charge_to", "date", fmt=EXCEL_DATE),
    ),
)

BELL_USAGE_OVERVIEW = _report(
    "bell_usage_overview",
    "invoice_lines",
    "Usage overview",
    (
        *[_required(col) if col.target == "bill_cycle_date" else col for col in _LINE_HEAD],
        _DEVICE_TYPE,
        *_USER,
        _DEACTIVATION,
        _NETWORK,
        _IMEI,
        *_MODEL,
        _SIM,
        c("Total airtime minutes", "minutes", "number", required=True),
        *_amounts(
            "Total incoming minutes, Total outgoing minutes, Incoming day minutes, "
            "Incoming night minutes, Incoming weekend minutes, Outgoing day minutes, "
            "Outgoing night minutes, Outgoing weekend minutes, Total day minutes, "
            "Total night minutes, Total weekend minutes",
            "number",
        ),
        *_amounts(
            "Domestic texts received, Domestic texts sent, Total domestic text, "
            "USA roaming text count, INTL roaming text count, Premium text count, "
            "Other text count",
            "int",
        ),
        c("Total text", "messages", "int", required=True),
        *_amounts(
            "Canada to Canada long distance minutes, Canada to USA long distance minutes, "
            "Canada to international long distance minutes, Other long distance minutes, "
            "Bell mobile to Bell mobile minutes, "
            "Bell mobile to Bell mobile long distance minutes, On device domestic data MB, "
            "Tether domestic data MB, Total domestic data MB, USA voice roaming minutes, "
            "USA data roaming MB, International voice roaming minutes, "
            "International data usage MB, Total roaming data, Total roaming voice",
            "number",
        ),
        c("411 count", "directory_assistance_count", "int"),
        *_amounts(
            "Zone 1 voice usage (minutes), Zone 2 voice usage (minutes), "
            "Zone 3 voice usage (minutes), Zone 4 Voice Usage (minutes), "
            "Zone 5 Voice Usage (minutes), Zone 1 data usage (MB), Zone 2 data usage (MB), "
            "Zone 3 data usage (MB), Zone 4 Data Usage (MB), Zone 5 Data Usage (MB), "
            "Zone 1 (Switzerland) voice usage, Zone 1 (France) voice usage, "
            "Zone 1 (Japan) voice usage, Zone 2 (Costa Rica) voice usage, "
            "Zone 2 (Egypt) voice usage, Zone 1 (Switzerland) data usage, "
            "Zone 1 (Germany) data usage, Zone 1 (France) data usage, "
            "Zone 1 (Jamaica) data usage, Zone 1 (Japan) data usage, "
            "Zone 1 (Mexico) data usage, Zone 2 (Costa Rica) data usage, "
            "Zone 2 (Egypt) data usage",
            "number",
        ),
    ),
)

LAYOUTS = (
    BELL_CALL_DETAIL,
    BELL_MOBILE,
    BELL_ACCOUNT,
    BELL_USER_PROFILE,  # before the hardware report: its columns include the report's
    BELL_HARDWARE,
    BELL_COST_OVERVIEW,
    BELL_INVOICE_CHARGES,
    BELL_USAGE_OVERVIEW,
)
