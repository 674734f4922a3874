"""Value information tables (EN 13757-3:2018 §6.4, protocol.md §4.3-4.6).

`primary(code)`, `ext_fd(code)` and `ext_fb(code)` map a VIF code (extension bit removed) to
(quantity, unit, exponent, kind): the value in `unit` is raw * 10**exponent. Units are converted
once here so that one quantity has one unit: energy in kWh (GJ for the joule VIFs), power in kW,
volume in m3, flow in m3/h, temperatures in C.

The tables are text, one row per code range, searched when a record header is seen for the
first time (records.py caches the answer). Text costs one object of heap when the module is
loaded from a .mpy file and none when it is frozen; a dict of tuples costs several times more.

Row: `first[-last] kind exponent unit quantity`. Within a range the exponent grows by one per
code; unit `@` means a time unit chosen by the code's low bits (s, min, h, d), `@L` the long
ones (h, d, month, year), with the exponent column as the offset into that list; `-` = none.
Kinds: N number (type B signed / BCD / real, scaled), U unsigned (bit fields, identifiers,
counters: never scaled), G date (type G), F date+time (type F, J or I by size).
"""

from .compat import const

NUMBER = const(0)
UNSIGNED = const(1)
DATE = const(2)
DATETIME = const(3)
MANUFACTURER = const(4)  # manufacturer-specific VIF: raw unsigned

_KINDS = "NUGF"
_TIME = ("s", "min", "h", "d")
_TIME_LONG = ("h", "d", "month", "year")

# EN 13757-3:2018 Table 10 (primary VIFs).
_PRIMARY = """\
00-07 N -6 kWh energy
08-0F N -9 GJ energy
10-17 N -6 m3 volume
18-1F N -3 kg mass
20-23 N 0 @ on_time
24-27 N 0 @ operating_time
28-2F N -6 kW power
30-37 N -9 GJ/h power
38-3F N -6 m3/h volume_flow
40-47 N -7 m3/min volume_flow
48-4F N -9 m3/s volume_flow
50-57 N -3 kg/h mass_flow
58-5B N -3 C flow_temperature
5C-5F N -3 C return_temperature
60-63 N -3 K temperature_difference
64-67 N -3 C external_temperature
68-6B N -3 bar pressure
6C G 0 - date
6D F 0 - datetime
6E N 0 - hca_units
70-73 N 0 @ averaging_duration
74-77 N 0 @ actuality_duration
78 U 0 - fabrication_number
79 U 0 - enhanced_identification
7A U 0 - bus_address
7E U 0 - any
"""

# EN 13757-3:2018 Table 12 (second extension, VIF 0xFD).
_FD = """\
00-03 N -3 currency credit
04-07 N -3 currency debit
08 U 0 - access_number
09 U 0 - medium
0A U 0 - manufacturer
0B U 0 - parameter_set_id
0C U 0 - model_version
0D U 0 - hardware_version
0E U 0 - firmware_version
0F U 0 - software_version
10 U 0 - customer_location
11 U 0 - customer
12 U 0 - access_code_user
13 U 0 - access_code_operator
14 U 0 - access_code_system_operator
15 U 0 - access_code_developer
16 U 0 - password
17 U 0 - error_flags
18 U 0 - error_mask
19 U 0 - security_key
1A U 0 - digital_output
1B U 0 - digital_input
1C U 0 - baud_rate
1D U 0 - response_delay
1E U 0 - retry
1F U 0 - remote_control
20 U 0 - first_storage_nr
21 U 0 - last_storage_nr
22 U 0 - storage_block_size
23 U 0 - tariff_descriptor
24-27 N 0 @ storage_interval
28 N 0 month storage_interval
29 N 0 year storage_interval
2A U 0 - operator_specific
2B N 0 s time_point
2C-2F N 0 @ duration_since_readout
30 F 0 - tariff_start
31-33 N 1 @ tariff_duration
34-37 N 0 @ tariff_period
38 N 0 month tariff_period
39 N 0 year tariff_period
3A U 0 - dimensionless
3B U 0 - wmbus_container
3C-3F N 0 @ transmission_period
40-4F N -9 V voltage
50-5F N -12 A current
60 U 0 - reset_counter
61 U 0 - cumulation_counter
62 U 0 - control_signal
63 U 0 - day_of_week
64 U 0 - week_number
65 U 0 - time_point_of_day_change
66 U 0 - parameter_activation_state
67 U 0 - special_supplier_info
68-6B N 0 @L duration_since_cumulation
6C-6F N 0 @L battery_operating_time
70 F 0 - battery_change
71 N 0 dBm rf_level
72 U 0 - daylight_saving
73 U 0 - listening_window
74 N 0 d remaining_battery_lifetime
75 U 0 - meter_stopped_count
76 U 0 - manufacturer_container
"""

# EN 13757-3:2018 Table 11 (first extension, VIF 0xFB). Rating factors of heat cost
# allocators are binary fractions (x 2^-12) and kept raw.
_FB = """\
00-01 N 2 kWh energy
02-03 N 0 kVARh reactive_energy
04-05 N 0 kVAh apparent_energy
08-09 N -1 GJ energy
0C-0F N -1 MCal energy
10-11 N 2 m3 volume
14-17 N -3 kVAR reactive_power
18-19 N 5 kg mass
1A-1B N -1 % relative_humidity
20 N 0 ft3 volume
21 N -1 ft3 volume
28-29 N 2 kW power
2A N 0 deg phase_angle_u_u
2B N 0 deg phase_angle_u_i
2C-2F N -3 Hz frequency
30-31 N -1 GJ/h power
34-37 N -3 kVA apparent_power
68 U 0 - hca_rating_factor_k
69 U 0 - hca_rating_factor_kq
70-73 N -3 F temperature_limit
74-77 N -3 C temperature_limit
78-7F N -3 W max_power_count
"""

# EN 13757-3:2018 Table 14 (combinable VIFEs) and Table 15 (after VIFE 0xFC): name added to
# the record's `qualifier`. The multiplicative factors 0x70-0x77 and 0x7D change the exponent
# instead (records.py).
_COMBINABLE = """\
00-0F error
12 averaged
13 inverse_compact_profile
14 relative_deviation
15-1C error
1D standard_conform
1E compact_profile_registers
1F compact_profile
20 per_second
21 per_minute
22 per_hour
23 per_day
24 per_week
25 per_month
26 per_year
27 per_measurement
28 per_pulse_in_0
29 per_pulse_in_1
2A per_pulse_out_0
2B per_pulse_out_1
2C per_litre
2D per_m3
2E per_kg
2F per_k
30 per_kwh
31 per_gj
32 per_kw
33 per_kl
34 per_v
35 per_a
36 times_s
37 times_s_per_v
38 times_s_per_a
39 start_of
3A uncorrected
3B forward
3C backward
3D non_metric
3E base_conditions
3F obis
40 lower_limit
41 lower_limit_exceeded_count
48 upper_limit
49 upper_limit_exceeded_count
42-4F limit_time
50-67 limit_duration
68 during_lower_limit
69 leakage
6C during_upper_limit
6D overflow
6A-6F limit_time
78-7B additive_correction
7E future
"""

_COMBINABLE_EXT = """\
01 phase_l1
02 phase_l2
03 phase_l3
04 neutral
05 phase_l1_l2
06 phase_l2_l3
07 phase_l3_l1
08 quadrant_1
09 quadrant_2
0A quadrant_3
0B quadrant_4
0C delta_import_export
10 accumulation_abs
"""

UNKNOWN = ("unknown", "", 0, NUMBER)


def _row(table, code):
    """The fields of the first row whose range holds code, and the code's offset in it."""
    for line in table.split("\n"):
        if not line:
            continue
        fields = line.split()
        span = fields[0]
        first = int(span[:2], 16)
        last = int(span[3:5], 16) if len(span) > 2 else first
        if first <= code <= last:
            return fields, code - first
    return None, 0


def _lookup(table, code):
    fields, i = _row(table, code)
    if fields is None:
        return UNKNOWN
    kind = _KINDS.index(fields[1])
    exp = int(fields[2])
    unit = fields[3]
    if unit == "@":
        return fields[4], _TIME[i + exp], 0, kind
    if unit == "@L":
        return fields[4], _TIME_LONG[i + exp], 0, kind
    return fields[4], "" if unit == "-" else unit, exp + i, kind


def primary(code):
    return _lookup(_PRIMARY, code)


def ext_fd(code):
    return _lookup(_FD, code)


def ext_fb(code):
    return _lookup(_FB, code)


def combinable(code):
    fields, _ = _row(_COMBINABLE, code)
    if fields is None:
        return "vife_%02x" % code
    if fields[1] in ("error", "limit_time", "limit_duration"):
        return "%s_%02x" % (fields[1], code)
    return fields[1]


def combinable_ext(code):
    fields, _ = _row(_COMBINABLE_EXT, code)
    return "ext_%02x" % code if fields is None else fields[1]
