"""Kamstrup heat meters: MULTICAL 302/303/402/403/602/603/803 (wmbusmeters: kamheat). Info
codes: MULTICAL 403 TD §3.2.11 as wmbusmeters maps them (protocol.md §5.2). The compact formats
are wmbusmeters' and the record lists of the MULTICAL 803, 602 and 403 (cooling) full frames of
its driver tests.
"""

from . import Driver, register
from .kamstrup import bits_to_text, set_status

_HEAT_INFO = (
    "1 VOLTAGE_INTERRUPTED 2 LOW_BATTERY_LEVEL 4 SENSOR_ERROR 8 SENSOR_T1_ABOVE_MEASURING_RANGE "
    "10 SENSOR_T2_ABOVE_MEASURING_RANGE 20 SENSOR_T1_BELOW_MEASURING_RANGE "
    "40 SENSOR_T2_BELOW_MEASURING_RANGE 80 TEMP_DIFF_WRONG_POLARITY 100 FLOW_SENSOR_WEAK_OR_AIR "
    "200 WRONG_FLOW_DIRECTION 400 RESERVED_BIT_10 800 FLOW_INCREASED "
    "1000 IN_A1_LEAKAGE_IN_THE_SYSTEM 2000 IN_B1_LEAKAGE_IN_THE_SYSTEM "
    "4000 IN_A1_A2_EXTERNAL_ALARM 8000 IN_B1_B2_EXTERNAL_ALARM 10000 V1_COMMUNICATION_ERROR "
    "20000 V1_WRONG_PULSE_FIGURE 40000 IN_A2_LEAKAGE_IN_THE_SYSTEM "
    "80000 IN_B2_LEAKAGE_IN_THE_SYSTEM 100000 T3_ABOVE_MEASURING_RANGE_OR_SWITCHED_OFF "
    "200000 T3_BELOW_MEASURING_RANGE_OR_SWITCHED_OFF 400000 V2_COMMUNICATION_ERROR "
    "800000 V2_WRONG_PULSE_FIGURE 1000000 V2_AIR 2000000 V2_WRONG_FLOW_DIRECTION "
    "4000000 RESERVED_BIT_26 8000000 V2_INCREASED_FLOW 10000000 V1_V2_BURST_WATER_LOSS "
    "20000000 V1_V2_BURST_WATER_PENETRATION 40000000 V1_V2_LEAKAGE_WATER_LOSS "
    "80000000 V1_V2_LEAKAGE_WATER_PENETRATION")
# 16-bit info codes (02FF22).
_HEAT_INFO16 = (
    "1 VOLTAGE_INTERRUPTED 2 LOW_BATTERY_LEVEL 4 RESERVED_BIT_2 8 SENSOR_T1_ABOVE_MEASURING_RANGE "
    "10 SENSOR_T2_ABOVE_MEASURING_RANGE 20 SENSOR_T1_BELOW_MEASURING_RANGE "
    "40 SENSOR_T2_BELOW_MEASURING_RANGE 80 TEMP_DIFF_WRONG_POLARITY 100 FLOW_SENSOR_WEAK_OR_AIR "
    "200 WRONG_FLOW_DIRECTION 400 RESERVED_BIT_10 800 FLOW_INCREASED 1000 RESERVED_BIT_12 "
    "2000 RESERVED_BIT_13 4000 RESERVED_BIT_14 8000 RESERVED_BIT_15")
# Standard error flags (02FD17) of the older heat meters.
_HEAT_ERROR_FLAGS = (
    "1 VOLTAGE_INTERRUPTED 4 SENSOR_T2_OUTSIDE_MEASURING_RANGE 8 SENSOR_T1_OUTSIDE_MEASURING_RANGE "
    "10 V1_COMMUNICATION_ERROR 20 SENSOR_T3_OUTSIDE_MEASURING_RANGE 40 LEAKAGE_COLD_WATER "
    "80 V2_WRONG_PULSE_FIGURE 100 LEAKAGE_HOT_WATER 200 BURST_WATER_LOSS "
    "400 V2_COMMUNICATION_ERROR 800 V1_WRONG_PULSE_FIGURE 1000 V1_AIR 2000 V2_AIR "
    "4000 V1_WRONG_FLOW_DIRECTION 8000 V2_WRONG_FLOW_DIRECTION")


def _heat_status(result, by_difvif):
    texts = []
    for difvif, table, mask in (("04ff22", _HEAT_INFO, 0xFFFFFFFF),
                                ("02ff22", _HEAT_INFO16, 0xFFFF),
                                ("02fd17", _HEAT_ERROR_FLAGS, 0xFFFF)):
        rec = by_difvif.get(difvif)
        if rec is not None and rec["value"] is not None:
            texts += bits_to_text(rec["value"], table, mask)
    set_status(result, texts)


KAMHEAT = Driver("""
driver kamheat
detect KAM 30 04
detect KAM 30 0d
detect KAM 30 0c
detect KAM 40 04
detect KAM 40 0c
detect KAM 40 0d
detect KAM 19 04
detect KAM 34 04
detect KAM 34 0a
detect KAM 34 0b
detect KAM 34 0c
detect KAM 34 0d
detect KAM 1c 04
detect KAM 35 04
detect KAM 35 0c
detect KAM 39 04
format 030643060314426C022D01FF21
format 030E430E0313426C022D01FF21
format 040604FF0704FF080414043B0259025D04FF22026C44064414426C
format 040F04FF0704FF08041484401484804014043B0259025D142D84100F84200F04FF22026C440F4414C44014C4804014426C
format 040E04FF0704FF08041384401484804014043B0259025D142D84100E84200E04FF22026C440E4413C44014C4804014426C
format 02F9FF15040604EEFF0704EEFF0804148440148480401402FD17026C426C44064414C44014C4804014043B0259025D
field total_energy_consumption_kwh energy
field total_energy_backward_kwh energy.backward
field total_volume_m3 volume
field total_volume_subunit1_m3 volume u1
field total_volume_subunit2_m3 volume u2
field total_volume_subunit3_m3 volume u3
field total_volume_subunit4_m3 volume u4
field volume_flow_m3h volume_flow
field max_flow_m3h volume_flow max
field power_kw power
field max_power_kw power max
field t1_temperature_c flow_temperature
field t2_temperature_c return_temperature
field flow_return_temperature_difference_c temperature_difference
field forward_energy_m3c 04ff07 raw
field return_energy_m3c 04ff08 raw
field target_energy_kwh energy s1
field target_energy_backward_kwh energy.backward s1
field target_volume_m3 volume s1
field target_volume_subunit1_m3 volume s1 u1
field target_volume_subunit2_m3 volume s1 u2
field target_volume_subunit3_m3 volume s1 u3
field target_volume_subunit4_m3 volume s1 u4
field operating_time_h operating_time.manufacturer_specific
field on_time_h on_time
field on_time_at_error_h on_time err
field fabrication_no fabrication_number raw
field meter_date date
field meter_datetime datetime
field target_date date s1
field enhanced_id 02f9ff15 xint
field va_counter 04eeff07 raw
field vb_counter 04eeff08 raw
""", _heat_status, ("04ff22", "02ff22", "02fd17"))

register(KAMHEAT)
