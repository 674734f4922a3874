"""The driver machinery: detection table, unit conversions, the generic naming scheme."""

from wmbus import Decoder, build, drivers


def test_generic_scheme_for_other_meters():
    apl = build.records(("0C13", 123456), ("4C13", 120000), ("426C", 0x2CBF), ("02FD17", 0),
                        ("0C06", 4711), ("04863C", 12), ("022D", 15), ("025B", 55),
                        ("025F", 30), ("1C13", 999), ("8C1013", 5))
    r = Decoder().decode(build.telegram(apl, manufacturer="ABC", meter_id="12345678",
                                        device_type=0x07))
    assert "meter" not in r
    assert (r["total_m3"], r["target_m3"], r["target_date"]) == (123.456, 120.0, "2021-12-31")
    assert r["total_energy_consumption_kwh"] == 4711
    assert r["total_energy_production_kwh"] == 12
    assert (r["power_kw"], r["flow_temperature_c"], r["return_temperature_c"]) == (1.5, 55, 30)
    assert r["max_total_m3"] == 0.999 and r["total_tariff_1_m3"] == 0.005
    assert r["error_flags"] == 0 and r["status"] == "OK"


def test_generic_status_names_the_tpl_status_bits():
    frame = build.telegram(build.records(("0413", 1)), manufacturer="ABC", status=0x04 | 0x10)
    assert Decoder().decode(frame)["status"] == "POWER_LOW TEMPORARY_ERROR"


def test_unit_conversions_and_missing_units():
    rec = {"value": 1.0, "unit": "GJ", "dif_vif": "040e"}
    assert drivers.convert(rec, "total_energy_consumption_kwh") == 277.777778
    rec = {"value": 90, "unit": "min", "dif_vif": "0423"}
    assert drivers.convert(rec, "on_time_h") == 1.5
    rec = {"value": 5, "unit": "ft3", "dif_vif": "04fb20"}
    assert drivers.convert(rec, "total_m3") is None  # no silent unit mix-ups
    rec = {"value": 0x1311, "unit": "", "dif_vif": "02f9ff15"}
    assert drivers.convert(rec, "enhanced_id", "xint") == "1311"
    rec = {"value": 0x009008F0FF08, "unit": "", "dif_vif": "06ff1b"}
    assert drivers.convert(rec, "accoustic_noise", "hex") == "08FFF0089000"


def test_dates_without_day_or_month_read_as_wmbusmeters_shows_them():
    # A type G date of 0000 (day 0, month 0 of 2000) is shown as C's mktime normalises it.
    norm = drivers._as_wmbusmeters_date
    assert norm("2000-00-*") == "1999-11-30"
    assert norm("2024-03-00") == "2024-02-29"
    assert norm("2021-11-30") == "2021-11-30" and norm("*-01-01") == "*-01-01"
    assert norm("2023-01-15 10:00") == "2023-01-15 10:00"
