"""Kamstrup water meters: MULTICAL 21, flowIQ 2101/2200/3100, KWM 2230/3230 (wmbusmeters:
kamwater). Where wmbusmeters has renamed a field over time (`external_temperature_c` became
`min_external_temperature_last_month_c`), both names are given. Info codes: Kamstrup MULTICAL 21
TD p. 50 (protocol.md §5.2).
"""

from . import Driver, register
from .kamstrup import bits_to_text, set_status

_WATER_INFO = "1 DRY 2 REVERSE 4 LEAK 8 BURST"
# flowIQ 32-bit info codes (04FF23); wmbusmeters' spelling of bit 6 is kept for compatibility.
_FLOWIQ_INFO = _WATER_INFO + (" 10 TAMPER 20 LOW_BATTERY 40 LOW_ABIENT_TEMPERATURE"
                              " 80 FLOW_ABOVE_Q4 200 NO_CONSUMPTION")
# 3-bit duration counters in bits 4-6, 7-9, 10-12 and 13-15 of the 16-bit info code.
_DURATIONS = ("", "1-8 hours", "9-24 hours", "2-3 days", "4-7 days", "8-14 days",
              "15-21 days", "22-31 days")


def _water_status(result, by_difvif):
    texts = []
    rec = by_difvif.get("02ff20")
    if rec is not None and rec["value"] is not None:
        info = rec["value"]
        texts = bits_to_text(info, _WATER_INFO, 0x000F)
        result["current_status"] = " ".join(texts)
        result["time_dry"] = _DURATIONS[(info >> 4) & 7]
        result["time_reversed"] = _DURATIONS[(info >> 7) & 7]
        result["time_leaking"] = _DURATIONS[(info >> 10) & 7]
        result["time_bursting"] = _DURATIONS[(info >> 13) & 7]
    rec = by_difvif.get("04ff23")
    if rec is not None and rec["value"] is not None:
        texts = bits_to_text(rec["value"], _FLOWIQ_INFO)
    set_status(result, texts)


KAMWATER = Driver("""
driver kamwater
detect KAM 1b 06
detect KAM 1b 16
detect KAW 3a 16
detect KAW 3c 16
detect KAM 1d 16
detect KAW 42 06
detect KAW 42 16
format 02FF2004134413615B6167
format 02FF20041392013BA1015B8101E7FF0F
format 04FF234413523B06FF1B426C61675167023B04138101E7FF0F
format 02FF2004134413426C523B615B616751678101E7FF0F06FF1B
format 02FF2004134413A1015B8101E7FF0F
format 02FF2004134413615B5167
format 02FF2004134413
format 02FF200413523B
format 04FF2304134413426C023B92013BA2013B06FF1BA1015B91015BA10167
field total_m3 volume
field target_m3 volume s1
field target_date date s1
field flow_m3h volume_flow
field min_flow_last_month_m3h volume_flow min s1
field min_flow_m3h volume_flow min s2
field min_flow_last_day_m3h volume_flow min s2
field max_flow_last_month_m3h volume_flow max s1
field max_flow_m3h volume_flow max s2
field max_flow_last_day_m3h volume_flow max s2
field max_flow_last_year_m3h volume_flow max s3
field flow_temperature_c flow_temperature min s1
field min_flow_temperature_last_month_c flow_temperature min s1
field flow_temperature_c flow_temperature min s2
field min_flow_temperature_c flow_temperature min s2
field min_flow_temperature_last_day_c flow_temperature min s2
field min_flow_temperature_last_year_c flow_temperature min s3
field max_flow_temperature_last_month_c flow_temperature max s1
field max_flow_temperature_c flow_temperature max s2
field max_flow_temperature_last_day_c flow_temperature max s2
field max_flow_temperature_last_year_c flow_temperature max s3
field min_external_temperature_last_month_c external_temperature min s1
field external_temperature_c external_temperature min s1
field min_external_temperature_last_day_c external_temperature min s2
field min_external_temperature_last_year_c external_temperature min s3
field max_external_temperature_c external_temperature max s1
field max_external_temperature_last_month_c external_temperature max s1
field max_external_temperature_last_day_c external_temperature max s2
field max_external_temperature_last_year_c external_temperature max s3
field accoustic_noise 06ff1b hex
""", _water_status, ("02ff20", "04ff23"))

register(KAMWATER)
