"""The few places where CPython and MicroPython differ, and nothing else.

Every other module of the decoder imports `const`, the AES primitives and the two byte loops
from here, so the same code runs on both interpreters: MicroPython's `cryptolib` (ECB=1 and
CBC=2 only, as on the ESP32 port) and CPython's `cryptography`. The AES primitives take whole
messages: one C call per telegram, never one per 16-byte block (micropython-esp32.md §1).

The two loops that must touch every byte (the CRC and the CTR keystream XOR) run as viper
machine code on MicroPython. They are compiled here at import, from the source below, rather
than shipped as a module of their own: a module with viper code compiles only with
`mpy-cross -march=...`, and this way every file compiles for any target while the ESP32
(xtensawin emitter) and the unix port (x64) run the loops about 10x faster than bytecode
(micropython-esp32.md §3). Where a port has no emitter, bytecode loops take over.
"""

# Running CRC-16/EN-13757 (no final XOR) over data[start:end] with the 512-byte big-endian
# table of crc.py, and dst[off:off+n] ^= src[:n]. Tested on the unix port by host_tests and
# compiled for xtensawin by test_compat.
VIPER_SOURCE = """
import micropython


@micropython.viper
def crc_update(crc: int, data: ptr8, start: int, end: int, table: ptr8) -> int:
    i = start
    while i < end:
        j = ((crc >> 8) ^ data[i]) << 1
        crc = ((crc << 8) & 0xFF00) ^ ((table[j] << 8) | table[j + 1])
        i += 1
    return crc


@micropython.viper
def xor_into(dst: ptr8, off: int, src: ptr8, n: int):
    i = 0
    while i < n:
        dst[off + i] ^= src[i]
        i += 1
"""

try:
    from micropython import const
    import cryptolib

    MICROPYTHON = True
    from time import ticks_ms, ticks_add, ticks_diff, sleep_ms
    from gc import mem_free

    def aes_ecb_encrypt(key, data, out=None):
        """AES-128-ECB encryption of `data` (a multiple of 16 bytes), into `out` if given."""
        if out is None:
            return cryptolib.aes(key, 1).encrypt(data)
        cryptolib.aes(key, 1).encrypt(data, out)
        return out

    def aes_cbc_encrypt(key, iv, data):
        return cryptolib.aes(key, 2, iv).encrypt(data)

    def aes_cbc_decrypt(key, iv, data):
        # A cryptolib object is locked to one direction and chains its IV: a fresh one per call.
        return cryptolib.aes(key, 2, iv).decrypt(data)

    def _compile_native():
        scope = {}
        try:
            exec(VIPER_SOURCE, scope)
        except Exception:  # no emitter on this port (SyntaxError / ValueError): bytecode
            return {}
        return scope

    _NATIVE = _compile_native()

except ImportError:
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    MICROPYTHON = False
    _NATIVE = {}

    import time as _time

    # MicroPython's ticks, with the ESP32's period (2^30 ms, a wrap every 12.4 days) so that
    # CPython runs exercise the wrap arithmetic the device needs (micropython-esp32.md §1 Time).
    TICKS_PERIOD = 1 << 30
    _TICKS_HALF = TICKS_PERIOD >> 1

    def ticks_ms():
        return int(_time.monotonic() * 1000) & (TICKS_PERIOD - 1)

    def ticks_add(ticks, delta):
        return (ticks + delta) & (TICKS_PERIOD - 1)

    def ticks_diff(end, start):
        return ((end - start + _TICKS_HALF) & (TICKS_PERIOD - 1)) - _TICKS_HALF

    def sleep_ms(ms):
        _time.sleep(ms / 1000)

    def mem_free():
        return None  # no fixed heap on CPython

    def const(value):
        return value

    def aes_ecb_encrypt(key, data, out=None):
        enc = Cipher(algorithms.AES(bytes(key)), modes.ECB()).encryptor()
        result = enc.update(bytes(data)) + enc.finalize()
        if out is None:
            return result
        out[: len(result)] = result
        return out

    def aes_cbc_encrypt(key, iv, data):
        enc = Cipher(algorithms.AES(bytes(key)), modes.CBC(bytes(iv))).encryptor()
        return enc.update(bytes(data)) + enc.finalize()

    def aes_cbc_decrypt(key, iv, data):
        dec = Cipher(algorithms.AES(bytes(key)), modes.CBC(bytes(iv))).decryptor()
        return dec.update(bytes(data)) + dec.finalize()


def native(name):
    """The viper version of `name` ("crc_update" or "xor_into"), or None."""
    return _NATIVE.get(name)
