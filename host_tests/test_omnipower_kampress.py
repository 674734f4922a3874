"""Kamstrup OMNIPOWER electricity meters and the Kamstrup pressure sensor.

Telegrams are made with the builder and encrypted with a key chosen here; field names and values
are those wmbusmeters gives for such telegrams.
"""

from support import KAM_KEY as KEY
from support import kam
from support import kam_decode as decode
from wmbus import Decoder, build


def test_omnipower_full_and_compact():
    items = (("0404", 794), ("04843C", 0), ("042B", 3), ("04AB3C", 0))
    d = Decoder({"32666857": KEY})
    for apl, ci in ((build.records(*items), 0x78), (build.compact(*items), 0x79)):
        r = decode(kam(apl, "32666857", 0x30, 0x02, ci=ci), "32666857", d)
        assert "decode_error" not in r, r
        assert r["meter"] == "omnipower" and r["media"] == "electricity"
        assert r["total_energy_consumption_kwh"] == 7.94
        assert r["total_energy_production_kwh"] == 0
        assert r["current_power_consumption_kw"] == 0.003
        assert r["current_power_production_kw"] == 0


def test_pressure_sensor():
    items = (("2269", 102), ("1269", 103), ("0269", 102), ("05FF09", 0.0012461),
             ("05FF0A", -0.00070612), ("02FD17", 0x08))
    r = decode(kam(build.records(*items), "77000317", 0x01, 0x18), "77000317")
    assert r["meter"] == "kampress" and r["media"] == "pressure"
    assert (r["pressure_bar"], r["max_pressure_bar"], r["min_pressure_bar"]) == (1.02, 1.03, 1.02)
    assert (r["alfa_counter"], r["beta_counter"]) == (0.001246, -0.000706)
    assert r["status"] == "LOW"
