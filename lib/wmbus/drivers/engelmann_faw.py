"""Engelmann water meters (wmbusmeters: engelmann_faw). Facts from wmbusmeters'
drivers/src/engelmann_faw.xmq (detection, its compact frame format, fields, error flag names);
the code is our own. The meter sends compact frames (CI 0x73) whose full frame may never come:
the format is known in advance. `consumption_N_months_ago_m3` is the volume of storage N+1.
"""

from . import Driver, register
from .kamstrup import bits_to_text, set_status

# The error flags record (01FD17), bit by bit, as the xmq names them.
_ERRORS = ("1 VOLUME_DETECTION_COILS_DEFECT 2 RESET 4 CRC_ERROR 8 REMOVAL_DETECTED"
           " 10 MAGNETIC_MANIPULATION 20 LEAKAGE 40 BLOCKED 80 REVERSE_FLOW")


def _status(result, by_difvif):
    texts = []
    rec = by_difvif.get("01fd17")
    if rec is not None and rec["value"] is not None:
        texts = bits_to_text(rec["value"], _ERRORS, 0xFF)
    set_status(result, texts)


_MONTHS = "".join(["field consumption_%d_months_ago_m3 volume s%d\n" % (n - 1, n)
                   for n in range(2, 17)])

register(Driver("""
driver engelmann_faw
detect EFE 00 06
detect EFE 00 07
detect EFE 00 16
format 426C441301FD17840113C40113840213C40213840313C40313840413C40413840513C40513840613C40613840713C40713840813046D0413
field total_m3 volume
field meter_datetime datetime
field reporting_date date s1
field consumption_at_reporting_date_m3 volume s1
""" + _MONTHS, status=_status, status_records=("01fd17",)))
