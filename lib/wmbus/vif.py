"""Value information tables (EN 13757-3:2018 §6.4, protocol.md §4.3-4.6).

Each table maps a VIF code (extension bit removed) to (quantity, unit, exponent, kind):
the value in `unit` is raw * 10**exponent. Units are converted once here so that every record
of one quantity has one unit: energy in kWh (or GJ for the joule VIFs), power in kW, volume in
m3, flow in m3/h, temperatures in C. Tables are dicts built once at import.
"""

from .compat import const

# How the data of a record is to be read, beyond its DIF data type.
NUMBER = const(0)  # type B signed integer / BCD / real, scaled
UNSIGNED = const(1)  # bit fields, identifiers, counters: unsigned, not scaled
DATE = const(2)  # type G
DATETIME = const(3)  # type F (4 bytes), J (3 bytes, time only) or I (6 bytes)
MANUFACTURER = const(4)  # manufacturer-specific VIF: raw unsigned
TEXT = const(5)  # plain-text VIF: unit given in the telegram

_TIME_UNITS = ("s", "min", "h", "d")
_TIME_UNITS_LONG = ("h", "d", "month", "year")


def _primary():
    t = {}
    for n in range(8):
        t[0x00 + n] = ("energy", "kWh", n - 6, NUMBER)
        t[0x08 + n] = ("energy", "GJ", n - 9, NUMBER)
        t[0x10 + n] = ("volume", "m3", n - 6, NUMBER)
        t[0x18 + n] = ("mass", "kg", n - 3, NUMBER)
        t[0x28 + n] = ("power", "kW", n - 6, NUMBER)
        t[0x30 + n] = ("power", "GJ/h", n - 9, NUMBER)
        t[0x38 + n] = ("volume_flow", "m3/h", n - 6, NUMBER)
        t[0x40 + n] = ("volume_flow", "m3/min", n - 7, NUMBER)
        t[0x48 + n] = ("volume_flow", "m3/s", n - 9, NUMBER)
        t[0x50 + n] = ("mass_flow", "kg/h", n - 3, NUMBER)
    for n in range(4):
        t[0x20 + n] = ("on_time", _TIME_UNITS[n], 0, NUMBER)
        t[0x24 + n] = ("operating_time", _TIME_UNITS[n], 0, NUMBER)
        t[0x58 + n] = ("flow_temperature", "C", n - 3, NUMBER)
        t[0x5C + n] = ("return_temperature", "C", n - 3, NUMBER)
        t[0x60 + n] = ("temperature_difference", "K", n - 3, NUMBER)
        t[0x64 + n] = ("external_temperature", "C", n - 3, NUMBER)
        t[0x68 + n] = ("pressure", "bar", n - 3, NUMBER)
        t[0x70 + n] = ("averaging_duration", _TIME_UNITS[n], 0, NUMBER)
        t[0x74 + n] = ("actuality_duration", _TIME_UNITS[n], 0, NUMBER)
    t[0x6C] = ("date", "", 0, DATE)
    t[0x6D] = ("datetime", "", 0, DATETIME)
    t[0x6E] = ("hca_units", "", 0, NUMBER)
    t[0x78] = ("fabrication_number", "", 0, UNSIGNED)
    t[0x79] = ("enhanced_identification", "", 0, UNSIGNED)
    t[0x7A] = ("bus_address", "", 0, UNSIGNED)
    t[0x7E] = ("any", "", 0, UNSIGNED)
    return t


def _fd():
    t = {}
    for n in range(4):
        t[0x00 + n] = ("credit", "currency", n - 3, NUMBER)
        t[0x04 + n] = ("debit", "currency", n - 3, NUMBER)
        t[0x24 + n] = ("storage_interval", _TIME_UNITS[n], 0, NUMBER)
        t[0x2C + n] = ("duration_since_readout", _TIME_UNITS[n], 0, NUMBER)
        t[0x34 + n] = ("tariff_period", _TIME_UNITS[n], 0, NUMBER)
        t[0x3C + n] = ("transmission_period", _TIME_UNITS[n], 0, NUMBER)
        t[0x68 + n] = ("duration_since_cumulation", _TIME_UNITS_LONG[n], 0, NUMBER)
        t[0x6C + n] = ("battery_operating_time", _TIME_UNITS_LONG[n], 0, NUMBER)
    for n in range(3):
        t[0x31 + n] = ("tariff_duration", _TIME_UNITS[n + 1], 0, NUMBER)
    for n in range(16):
        t[0x40 + n] = ("voltage", "V", n - 9, NUMBER)
        t[0x50 + n] = ("current", "A", n - 12, NUMBER)
    names = {
        0x08: "access_number", 0x09: "medium", 0x0A: "manufacturer", 0x0B: "parameter_set_id",
        0x0C: "model_version", 0x0D: "hardware_version", 0x0E: "firmware_version",
        0x0F: "software_version", 0x10: "customer_location", 0x11: "customer",
        0x12: "access_code_user", 0x13: "access_code_operator", 0x14: "access_code_system_operator",
        0x15: "access_code_developer", 0x16: "password", 0x17: "error_flags", 0x18: "error_mask",
        0x19: "security_key", 0x1A: "digital_output", 0x1B: "digital_input", 0x1C: "baud_rate",
        0x1D: "response_delay", 0x1E: "retry", 0x1F: "remote_control", 0x20: "first_storage_nr",
        0x21: "last_storage_nr", 0x22: "storage_block_size", 0x23: "tariff_descriptor",
        0x2A: "operator_specific", 0x3A: "dimensionless", 0x3B: "wmbus_container",
        0x60: "reset_counter", 0x61: "cumulation_counter", 0x62: "control_signal",
        0x63: "day_of_week", 0x64: "week_number", 0x65: "time_point_of_day_change",
        0x66: "parameter_activation_state", 0x67: "special_supplier_info",
        0x72: "daylight_saving", 0x73: "listening_window", 0x75: "meter_stopped_count",
        0x76: "manufacturer_container",
    }
    for code, name in names.items():
        t[code] = (name, "", 0, UNSIGNED)
    t[0x28] = ("storage_interval", "month", 0, NUMBER)
    t[0x29] = ("storage_interval", "year", 0, NUMBER)
    t[0x2B] = ("time_point", "s", 0, NUMBER)
    t[0x30] = ("tariff_start", "", 0, DATETIME)
    t[0x38] = ("tariff_period", "month", 0, NUMBER)
    t[0x39] = ("tariff_period", "year", 0, NUMBER)
    t[0x70] = ("battery_change", "", 0, DATETIME)
    t[0x71] = ("rf_level", "dBm", 0, NUMBER)
    t[0x74] = ("remaining_battery_lifetime", "d", 0, NUMBER)
    return t


def _fb():
    t = {}
    for n in range(2):
        t[0x00 + n] = ("energy", "kWh", n + 2, NUMBER)  # 10^(n-1) MWh
        t[0x02 + n] = ("reactive_energy", "kVARh", n, NUMBER)
        t[0x04 + n] = ("apparent_energy", "kVAh", n, NUMBER)
        t[0x08 + n] = ("energy", "GJ", n - 1, NUMBER)
        t[0x10 + n] = ("volume", "m3", n + 2, NUMBER)
        t[0x18 + n] = ("mass", "kg", n + 5, NUMBER)  # 10^(n+2) t
        t[0x1A + n] = ("relative_humidity", "%", n - 1, NUMBER)
        t[0x28 + n] = ("power", "kW", n + 2, NUMBER)  # 10^(n-1) MW
        t[0x30 + n] = ("power", "GJ/h", n - 1, NUMBER)
    for n in range(4):
        t[0x0C + n] = ("energy", "MCal", n - 1, NUMBER)
        t[0x14 + n] = ("reactive_power", "kVAR", n - 3, NUMBER)
        t[0x2C + n] = ("frequency", "Hz", n - 3, NUMBER)
        t[0x34 + n] = ("apparent_power", "kVA", n - 3, NUMBER)
        t[0x70 + n] = ("temperature_limit", "F", n - 3, NUMBER)
        t[0x74 + n] = ("temperature_limit", "C", n - 3, NUMBER)
    for n in range(8):
        t[0x78 + n] = ("max_power_count", "W", n - 3, NUMBER)
    t[0x20] = ("volume", "ft3", 0, NUMBER)
    t[0x21] = ("volume", "ft3", -1, NUMBER)
    t[0x2A] = ("phase_angle_u_u", "deg", 0, NUMBER)
    t[0x2B] = ("phase_angle_u_i", "deg", 0, NUMBER)
    # Heat cost allocator rating factors are binary fractions (x 2^-12), kept raw.
    t[0x68] = ("hca_rating_factor_k", "", 0, UNSIGNED)
    t[0x69] = ("hca_rating_factor_kq", "", 0, UNSIGNED)
    return t


PRIMARY = _primary()
EXT_FD = _fd()
EXT_FB = _fb()

UNKNOWN = ("unknown", "", 0, NUMBER)

# Combinable (orthogonal) VIFEs, §6.4.7: code -> name added to the record's `qualifier`.
# Multiplicative factors (0x70-0x77, 0x7D) change the exponent instead and are not listed.
_TIME_PER = ("per_second", "per_minute", "per_hour", "per_day", "per_week", "per_month",
             "per_year", "per_measurement")


def _combinable():
    t = {
        0x12: "averaged", 0x13: "inverse_compact_profile", 0x14: "relative_deviation",
        0x1D: "standard_conform", 0x1E: "compact_profile_registers", 0x1F: "compact_profile",
        0x28: "per_pulse_in_0", 0x29: "per_pulse_in_1", 0x2A: "per_pulse_out_0",
        0x2B: "per_pulse_out_1", 0x2C: "per_litre", 0x2D: "per_m3", 0x2E: "per_kg",
        0x2F: "per_k", 0x30: "per_kwh", 0x31: "per_gj", 0x32: "per_kw", 0x33: "per_kl",
        0x34: "per_v", 0x35: "per_a", 0x36: "times_s", 0x37: "times_s_per_v",
        0x38: "times_s_per_a", 0x39: "start_of", 0x3A: "uncorrected", 0x3B: "forward",
        0x3C: "backward", 0x3D: "non_metric", 0x3E: "base_conditions", 0x3F: "obis",
        0x40: "lower_limit", 0x48: "upper_limit", 0x41: "lower_limit_exceeded_count",
        0x49: "upper_limit_exceeded_count", 0x68: "during_lower_limit",
        0x6C: "during_upper_limit", 0x69: "leakage", 0x6D: "overflow", 0x7E: "future",
    }
    for n in range(16):
        t[n] = "error_%d" % n
    for n in range(0x15, 0x1D):
        t[n] = "error_%d" % n
    for n in range(8):
        t[0x20 + n] = _TIME_PER[n]
    for code in (0x42, 0x43, 0x46, 0x47, 0x4A, 0x4B, 0x4E, 0x4F, 0x6A, 0x6B, 0x6E, 0x6F):
        t[code] = "limit_time_%02x" % code
    for n in range(0x50, 0x68):
        t[n] = "limit_duration_%02x" % n
    for n in range(4):
        t[0x78 + n] = "additive_correction"
    return t


COMBINABLE = _combinable()

# Second combinable table behind VIFE 0x7C/0xFC (EN 13757-3:2018 Table 15).
COMBINABLE_EXT = {
    0x01: "phase_l1", 0x02: "phase_l2", 0x03: "phase_l3", 0x04: "neutral",
    0x05: "phase_l1_l2", 0x06: "phase_l2_l3", 0x07: "phase_l3_l1",
    0x08: "quadrant_1", 0x09: "quadrant_2", 0x0A: "quadrant_3", 0x0B: "quadrant_4",
    0x0C: "delta_between_import_export", 0x10: "accumulation_abs", 0x11: "data_presented_with_type_c",
    0x12: "data_presented_with_type_d", 0x13: "direction_from_communication_partner",
    0x14: "direction_to_communication_partner",
}
