"""What several test modules build their telegrams with (imported, never collected as tests)."""

from wmbus import Decoder, build

# MULTICAL 21 records: info code 0x71 (DRY for 22-31 days), volume, target volume, minimum
# flow temperature and minimum external temperature of the month.
MC21 = (("02FF20", 0x0071), ("0413", 6408), ("4413", 6100), ("615B", 12), ("6167", 21))
MC21_ID = "76348799"


def values(result):
    return [x["value"] for x in result["records"]]


def kamstrup(apl, key, meter_id=MC21_ID, version=0x1B, device_type=0x16, ci=0x78,
             manufacturer="KAM", **kw):
    """A Kamstrup telegram: ELL 0x8D with AES-CTR under `key`, then CI `ci` and `apl`."""
    return build.telegram(apl, manufacturer=manufacturer, meter_id=meter_id, version=version,
                          device_type=device_type, ci=ci, ell=0x8D, key=key, **kw)


def decode_with(frame, meter_id, key, decoder=None):
    return (decoder or Decoder({meter_id: key})).decode(frame)


# The key of the driver tests' Kamstrup meters, and their telegrams.
KAM_KEY = bytes.fromhex("3F1C5A7E92B4D6089ACE13579BDF2468")


def kam(apl, meter_id, version, device_type, **kw):
    return kamstrup(apl, KAM_KEY, meter_id, version, device_type, **kw)


def kam_decode(frame, meter_id, decoder=None):
    return decode_with(frame, meter_id, KAM_KEY, decoder)


# The decoder tests' MULTICAL 21 key (distinctive, to find it if it ever leaked) and telegram.
KEY = bytes.fromhex("8A1F5C3E907B2D4461E0F3A9C7B58D12")
KEY_HEX = "8a1f5c3e907b2d4461e0f3a9c7b58d12"
OTHER = bytes(range(16))


def mc21_apl():
    return build.records(*MC21)


def mc21(**kw):
    """The MULTICAL 21 telegram of MC21, under KEY unless key= says otherwise."""
    key = kw.pop("key", KEY)
    return kamstrup(mc21_apl(), key, **kw)


def be32(b, p):
    return (b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]


def diehl_lfsr(reg, plain):
    """Diehl's LFSR over `plain`, from a 32-bit seed: taps 1, 2, 11 and 31, one bit per step,
    each byte XORed with the register's low byte (written from the description in
    lib/wmbus/diehl.py, independently of it). Its own inverse."""
    out = bytearray()
    for b in plain:
        for _ in range(8):
            bit = ((reg >> 1) ^ (reg >> 2) ^ (reg >> 11) ^ (reg >> 31)) & 1
            reg = ((reg << 1) | bit) & 0xFFFFFFFF
        out.append(b ^ (reg & 0xFF))
    return bytes(out)
