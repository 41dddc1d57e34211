"""Bell (Canada) exports."""

from __future__ import annotations

from piiscan.layouts.model import Layout, c

BELL_MOBILE = Layout(
    name="bell_mobile",
    carrier="bell",
    dataset="invoice_lines",
    file_pattern=r"^Bell_MOB_\d+_\d{6}\.csv$",
    encoding="iso-8859-1",
    header_rows=2,
    description="Bell (Canada) mobile invoice detail: English and French header rows",
    columns=(
        c("Acct Nbr", "account_number", "id", required=True, french="Num compte"),
        c("Invoice Nbr", "invoice_number", "id", required=True, french="Num facture"),
        c(
            "Bill Date",
            "bill_cycle_date",
            "date",
            required=True,
            fmt="%Y-%m-%d",
            french="Date facture",
        ),
        c("Mobile Nbr", "wireless_number", "phone", required=True, french="Num mobile"),
        c("Surname", "surname", french="Nom"),
        c("Given Name", "given_name", french="Prénom"),
        c("Price Plan", "plan", french="Forfait"),
        c("Airtime", "minutes", "mmss", french="Temps d'antenne"),
        c("Messages", "messages", "int", french="Messages"),
        c("Data (MB)", "data_mb", "number", french="Données (Mo)"),
        c("Charges", "charge", "money", required=True, french="Frais"),
        c("GST", "gst", "money", french="TPS"),
        c("HST", "hst", "money", french="TVH"),
        c("QST", "qst", "money", french="TVQ"),
        c("PST", "pst", "money", french="TVP"),
    ),
)

LAYOUTS = (BELL_MOBILE,)
