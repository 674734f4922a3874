"""Top-level fields for meters without a driver, named by one scheme from the standard records.

    name = [max_|min_] base [_tariff_N] [_subunitN] [_storage_N] _unit

base is the quantity's name (`total_energy_consumption`, `total`, `flow_temperature`, ...);
storage 1 (the value at the set date) replaces `total`/`current` by `target`; the unit suffix is
wmbusmeters' (`kwh`, `m3`, `m3h`, `c`, ...). The first record that gives a name keeps it.
"""

from . import _factor, converted

# quantity[.qualifier] -> base name at storage 0, at storage 1, unit suffix ("-": none).
# Text, searched once per DIB+VIB (the answers are cached), for the reason drivers are text.
_NAMES = """
energy total_energy_consumption target_energy kwh
energy.backward total_energy_production target_energy_production kwh
volume total target m3
volume.backward total_backward target_backward m3
mass total_mass target_mass kg
power power target_power kw
power.backward power_production target_power_production kw
volume_flow volume_flow target_volume_flow m3h
flow_temperature flow_temperature target_flow_temperature c
return_temperature return_temperature target_return_temperature c
temperature_difference temperature_difference target_temperature_difference c
external_temperature external_temperature target_external_temperature c
pressure pressure target_pressure bar
on_time on_time target_on_time h
operating_time operating_time target_operating_time h
hca_units current_consumption consumption_at_set_date hca
date meter_date target_date -
datetime meter_datetime target_datetime -
relative_humidity relative_humidity target_relative_humidity rh
voltage voltage target_voltage v
current current target_current a
frequency frequency target_frequency hz
reactive_energy total_reactive_energy_consumption target_reactive_energy kvarh
error_flags error_flags target_error_flags -
fabrication_number fabrication_no target_fabrication_no -
remaining_battery_lifetime remaining_battery_life target_remaining_battery_life d
rf_level rf_level target_rf_level dbm
firmware_version firmware_version target_firmware_version -
software_version software_version target_software_version -
hardware_version hardware_version target_hardware_version -
model_version model_version target_model_version -
"""

_cache = {}  # dif_vif -> (output name, unit factor), or () when it gets none


_STATUS = ((0x04, "POWER_LOW"), (0x08, "PERMANENT_ERROR"), (0x10, "TEMPORARY_ERROR"))
_APP_STATUS = ("", "BUSY", "ERROR", "ALARM")


def name_for(rec):
    """(output name, unit factor) of a record, or None; found once per DIB+VIB."""
    found = _cache.get(rec["dif_vif"])
    if found is None:
        name = _name(rec)
        factor = _factor(name[name.rfind("_") + 1 :], rec["unit"]) if name else None
        found = (name, factor) if factor is not None else ()
        if len(_cache) >= 64:
            _cache.clear()
        _cache[rec["dif_vif"]] = found
    return found or None


def _name(rec):
    quantity = rec["quantity"]
    if rec.get("qualifier"):
        quantity += "." + rec["qualifier"]
    i = _NAMES.find("\n" + quantity + " ")
    if i < 0:
        return ""
    words = _NAMES[i + 1 : _NAMES.find("\n", i + 1)].split()
    storage = rec["storage"]
    parts = [words[2] if storage == 1 else words[1]]
    func = rec["function"]
    if func == "maximum":
        parts.insert(0, "max")
    elif func == "minimum":
        parts.insert(0, "min")
    elif func == "error":
        parts.append("at_error")
    if rec["tariff"]:
        parts.append("tariff_%d" % rec["tariff"])
    if rec["subunit"]:
        parts.append("subunit%d" % rec["subunit"])
    if storage > 1:
        parts.append("storage_%d" % storage)
    if words[3] != "-":
        parts.append(words[3])
    return "_".join(parts)


def apply(result):
    for rec in result["records"]:
        found = name_for(rec)
        if found is not None and found[0] not in result:
            value = converted(rec, None, found[1])
            if value is not None:
                result[found[0]] = value
    sts = result.get("tpl_status")
    if sts is not None and "status" not in result:
        texts = [_APP_STATUS[sts & 3]] if sts & 3 else []
        texts += [n for b, n in _STATUS if sts & b]
        result["status"] = " ".join(texts) if texts else "OK"
