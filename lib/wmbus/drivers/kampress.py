"""Kamstrup pressure sensor (wmbusmeters: kampress). alfa and beta are vendor values whose
meaning wmbusmeters does not know either. The compact format is the record list of its full
frame.
"""

from . import Driver, register
from .kamstrup import bits_to_text, set_status

_PRESSURE_FLAGS = "1 DROP 2 SURGE 4 HIGH 8 LOW 10 TRANSIENT 20 COMM_ERROR"


def _pressure_status(result, by_difvif):
    rec = by_difvif.get("02fd17")
    texts = []
    if rec is not None and rec["value"] is not None:
        texts = bits_to_text(rec["value"], _PRESSURE_FLAGS, 0xFFFF)
    set_status(result, texts)


KAMPRESS = Driver("""
driver kampress
detect KAM 01 18
format 22691269026905FF0905FF0A02FD17
field pressure_bar pressure
field max_pressure_bar pressure max
field min_pressure_bar pressure min
field alfa_counter 05ff09
field beta_counter 05ff0a
""", _pressure_status, ("02fd17",))

register(KAMPRESS)
