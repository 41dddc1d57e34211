"""MDM device inventories (Intune export), reconciled against carrier lines."""

from __future__ import annotations

from piiscan.layouts.model import Layout, c

MDM_INVENTORY = Layout(
    name="mdm_inventory",
    carrier="mdm",
    dataset="devices",
    file_pattern=r"^Intune_Devices_\d{8}\.xlsx$",
    format="xlsx",
    description="MDM (Intune-style) device inventory export",
    columns=(
        c("Device name", "device_name"),
        c("IMEI", "imei", "id", required=True),
        c("MEID", "meid", "id"),
        c("ICCID", "iccid", "id"),
        c("EID", "eid", "id"),
        c("Phone number", "wireless_number", "phone", required=True),
        c("Primary user email address", "email"),
        c("Primary user display name", "user_name"),
        c("Serial number", "serial_number", "id"),
        c("Manufacturer", "make"),
        c("Model", "model"),
        c("Last check-in", "last_check_in"),
    ),
)

LAYOUTS = (MDM_INVENTORY,)
