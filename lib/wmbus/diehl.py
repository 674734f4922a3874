"""Diehl Metering (DME, EWT, HYD, SAP, SPL) specifics shared by the transport layer and the
izar driver. Facts from wmbusmeters (src/manufacturer_specificities.cc, src/wmbus.cc); the code
is our own.

Frame interpretation (detectDiehlFrameInterpretation), for a DLL frame from a Diehl manufacturer
with C 0x44 (SND_NR) or 0x46 (SND_IR), by the CI at frame byte 10:

    0x7A with bit 12 of CFG set  "real data": the payload after CFG is LFSR-obfuscated, and the
                                 DLL address is sent as version, type, then the 4 id bytes
    0x71                         real data too (not handled here: no CFG)
    0xA0-0xB7                    PRIOS and reserved (drivers/izar.py)
    others                       OMS: standard; security mode 5 without a key given uses the
                                 default key (addDefaultManufacturerKeyIfAny)

wmbusmeters reads the security mode as CFG bits 12..8 (parseTPLConfig), so real data frames
show modes 16-31 (0xD810: 24, 0x7545: 21), all of them "SPECIFIC_16_31"; for those it decodes
the real data LFSR (potentiallyDecrypt), nothing else.

The LFSR: a 32-bit Fibonacci LFSR (taps at bits 1, 2, 11, 31), clocked 8 times per byte; each
byte is XORed with the low 8 bits of the register. The seed is a key (8 bytes folded to 32 bits
by XOR of its halves: the first 8 bytes of a meter's key, else the two PRIOS default keys) XORed
with the frame bytes 2-5, 6-9 and 10-13 as sent, read big-endian (decodeDiehlLfsr). The
register is kept as two 16-bit halves so that MicroPython never needs a long integer. Real data
is checked by its byte sum: sum & 0xEF must equal CFG's high byte & 0xEF (CHECKSUM_AND_0XEF).
"""

from .dll import manufacturer_code

MANUFACTURERS = (manufacturer_code("DME"), manufacturer_code("EWT"), manufacturer_code("HYD"),
                 manufacturer_code("SAP"), manufacturer_code("SPL"))

# PRIOS_DEFAULT_KEY1 39BC8A10E66D83F8 and _KEY2 51728910E66D83F8, folded: (high, low) 16 bits.
KEYS = ((0x39BC ^ 0xE66D, 0x8A10 ^ 0x83F8), (0x5172 ^ 0xE66D, 0x8910 ^ 0x83F8))
# The AES key wmbusmeters gives Diehl OMS frames in security mode 5 when none is configured:
# PRIOS_DEFAULT_KEY2 twice (addDefaultManufacturerKeyIfAny).
DEFAULT_AES_KEY = bytes.fromhex("51728910E66D83F851728910E66D83F8")


def is_diehl(f):
    """Whether the DLL frame f (CRC-free, from L) comes from a Diehl manufacturer with C 0x44
    or 0x46: the frames wmbusmeters interprets the Diehl way."""
    return (len(f) >= 15 and (f[1] == 0x44 or f[1] == 0x46)
            and (f[2] | (f[3] << 8)) in MANUFACTURERS)


def is_real_data(f):
    """A Diehl "real data" frame: CI 0x7A at byte 10, bit 12 of CFG (byte 14, bit 4) set."""
    return is_diehl(f) and f[10] == 0x7A and f[14] & 0x10 != 0


def is_oms(f):
    """A Diehl frame of standard (OMS) layout: not real data, not PRIOS or reserved."""
    if not is_diehl(f):
        return False
    ci = f[10]
    if ci == 0x7A:
        return f[14] & 0x10 == 0
    return ci != 0x71 and not 0xA0 <= ci <= 0xB7


def swapped_ident(f):
    """M(2) ID(4) version type of a real data frame, whose DLL address is version, type, id
    (transformDiehlAddress, SWAPPING)."""
    return bytes(f[2:4]) + bytes(f[6:10]) + bytes((f[4], f[5]))


def fold_key(key):
    """An AES key's first 8 bytes folded to the LFSR key (high, low) (convertKey)."""
    return ((key[0] << 8 | key[1]) ^ (key[4] << 8 | key[5]),
            (key[2] << 8 | key[3]) ^ (key[6] << 8 | key[7]))


def lfsr_xor(hi, lo, data, start, check=None):
    """data[start:] XORed with the PRIOS keystream seeded with hi:lo (16 bits each); None when
    `check` is given and the first plaintext byte differs (the wrong key). Its own inverse."""
    out = bytearray(len(data) - start)
    for i in range(len(out)):
        for _ in range(8):
            bit = ((lo >> 1) ^ (lo >> 2) ^ (lo >> 11) ^ (hi >> 15)) & 1
            hi = ((hi << 1) | (lo >> 15)) & 0xFFFF
            lo = ((lo << 1) | bit) & 0xFFFF
        out[i] = data[start + i] ^ (lo & 0xFF)
        if check is not None and out[0] != check:
            return None
    return out


def seed(key, m, address, version, device_type, payload):
    """The LFSR seed (hi, lo) for a key (hi, lo), the DLL address as sent (M code, the 4 id bytes
    in DLL order, version, type) and the payload's first 4 bytes (CI and 3 more)."""
    hi = key[0] ^ (((m & 0xFF) << 8) | (m >> 8)) ^ ((address[2] << 8) | address[3])
    hi ^= (payload[0] << 8) | payload[1]
    lo = key[1] ^ ((address[0] << 8) | address[1]) ^ ((version << 8) | device_type)
    lo ^= (payload[2] << 8) | payload[3]
    return hi, lo


def sum_ok(data, start, end, cfg_high):
    return sum(memoryview(data)[start:end]) & 0xEF == cfg_high & 0xEF


def real_data(f, end, key=None):
    """The plaintext of real data frame f's payload f[15:end], or None if no key gives a payload
    whose sum checks. Tries the meter's key (16 bytes, or None), then the default keys, as
    wmbusmeters does (initializeDiehlDefaultKeySupport: the defaults only without a key)."""
    keys = (fold_key(key),) if key is not None else KEYS
    m = f[2] | (f[3] << 8)
    address = f[4:8]
    payload = f[10:14]
    for k in keys:
        hi, lo = seed(k, m, address, f[8], f[9], payload)
        plain = lfsr_xor(hi, lo, f[:end], 15)
        if sum_ok(plain, 0, len(plain), f[14]):
            return plain
    return None
