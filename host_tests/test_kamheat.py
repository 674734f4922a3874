"""Kamstrup heat meters (MULTICAL 302-803) through the kamheat driver.

Telegrams are made with the builder and encrypted with a key chosen here; field names and values
are those wmbusmeters gives for such telegrams, which Kamstrup users' dashboards expect.
"""

from support import KAM_KEY as KEY
from support import kam
from support import kam_decode as decode
from wmbus import build


def test_heat_meter_in_gj_and_kwh():
    # MULTICAL 302 in GJ: 42.93 GJ = 11925 kWh; 42.42 GJ = 11783.333333 kWh (6 decimals).
    apl = build.records(("030F", 4293), ("430F", 4242), ("0314", 338695), ("426C", 0x2BBE),
                        ("022D", 12), ("01FF21", 0))
    r = decode(kam(apl, "46464646", 0x30, 0x0C), "46464646")
    assert r["meter"] == "kamheat" and r["media"] == "heat volume at inlet"
    assert r["total_energy_consumption_kwh"] == 11925
    assert r["target_energy_kwh"] == 11783.333333
    assert (r["total_volume_m3"], r["power_kw"], r["target_date"]) == (3386.95, 1.2, "2021-11-30")
    assert r["status"] == "OK"


def test_heat_meter_temperatures_counters_and_info_codes():
    info = 0x20 | 0x40 | 0x10000  # T1, T2 below range; V1 communication error
    apl = build.records(("0406", 7173), ("04FF07", 15673), ("04FF08", 9390), ("0414", 26871),
                        ("043B", 71), ("042D", 22), ("0259", 5229), ("025D", 2301),
                        ("04FF22", info), ("0422", 6886), ("143B", 396), ("142D", 124),
                        ("844014", 0), ("C44014", 5))
    r = decode(kam(apl, "66666666", 0x35, 0x0C), "66666666")
    assert (r["total_energy_consumption_kwh"], r["total_volume_m3"]) == (7173, 268.71)
    assert (r["t1_temperature_c"], r["t2_temperature_c"]) == (52.29, 23.01)
    assert (r["forward_energy_m3c"], r["return_energy_m3c"]) == (15673, 9390)
    assert (r["max_flow_m3h"], r["max_power_kw"], r["on_time_h"]) == (0.396, 12.4, 6886)
    assert (r["total_volume_subunit1_m3"], r["target_volume_subunit1_m3"]) == (0.0, 0.05)
    assert r["status"] == ("SENSOR_T1_BELOW_MEASURING_RANGE SENSOR_T2_BELOW_MEASURING_RANGE "
                           "V1_COMMUNICATION_ERROR")


def test_heat_meter_tpl_status_joins_the_info_codes():
    apl = build.records(("0405", 11116), ("0413", 461706), ("02FF22", 0x0002))
    frame = build.telegram(apl, manufacturer="KAM", meter_id="78787878", version=0x40,
                           device_type=0x0C, ci=0x7A, mode=5, key=KEY, status=0x04)
    r = decode(frame, "78787878")
    assert r["total_energy_consumption_kwh"] == 1111.6
    assert r["status"] == "LOW_BATTERY_LEVEL POWER_LOW"
