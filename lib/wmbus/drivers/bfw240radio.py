"""BFW 240 radio heat cost allocators (wmbusmeters: bfw240radio).

CI 0x7A, but the APL after the TPL header is BFW's own layout, not DIF/VIF records
(wmbusmeters drivers/src/bfw240radio.xmq; the code is our own). Offsets from the APL start:

    0-3    2F 2F and 2 bytes not decoded
    4-5    HCA at the end of the previous period (big endian)
    6-7    current HCA (big endian)
    8-9    not decoded
    10-36  9 triplets of monthly HCA values, months 18/17 first, 2/1 last: in a triplet
           b0 b1 b2, the older month is (b1 >> 4) * 256 + b0, the newer (b1 & 15) * 256 + b2
    37-39  device date, BCD day, month, year

The generic record parser cannot read this, so the decoder must hand the APL to the driver
(decode_apl below) instead of parsing records; until it does, the driver only names the meter.
"""

from . import Driver, register


def _bcd(b):
    return (b >> 4) * 10 + (b & 15)


def decode_apl(result, apl):
    """Fill the fields from the APL bytes after the TPL header; None or a decode_error."""
    if len(apl) < 40:
        return "truncated"
    result["prev_hca"] = (apl[4] << 8) | apl[5]
    result["current_hca"] = (apl[6] << 8) | apl[7]
    for k in range(9):  # triplet k holds months 18 - 2k (older) and 17 - 2k (newer)
        p = 10 + 3 * k
        result["prev_%02d_hca" % (18 - 2 * k)] = ((apl[p + 1] >> 4) << 8) | apl[p]
        result["prev_%02d_hca" % (17 - 2 * k)] = ((apl[p + 1] & 15) << 8) | apl[p + 2]
    result["device_date"] = "20%02d-%02d-%02d" % (_bcd(apl[39]), _bcd(apl[38]), _bcd(apl[37]))
    return None


register(Driver("""
driver bfw240radio
detect BFW 02 08
""", apl=decode_apl))
