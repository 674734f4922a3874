"""The few places where CPython and MicroPython differ, and nothing else.

Every other module of the decoder imports `const` and the AES primitives from here, so the
same code runs on both interpreters: MicroPython's `cryptolib` (ECB=1 and CBC=2 only, as on the
ESP32 port) and CPython's `cryptography`. All three primitives take whole messages: one C call
per telegram, never one per 16-byte block (docs: micropython-esp32.md §1 "Crypto").
"""

try:
    from micropython import const
    import cryptolib

    MICROPYTHON = True

    def aes_ecb_encrypt(key, data):
        """AES-128-ECB encryption of `data` (a multiple of 16 bytes)."""
        return cryptolib.aes(key, 1).encrypt(data)

    def aes_cbc_encrypt(key, iv, data):
        return cryptolib.aes(key, 2, iv).encrypt(data)

    def aes_cbc_decrypt(key, iv, data):
        # A cryptolib object is locked to one direction and chains its IV: a fresh one per call.
        return cryptolib.aes(key, 2, iv).decrypt(data)

    def native_crc_update():
        """The CRC loop as viper machine code, or None where the port has no native emitter.

        It is compiled here at import, from source, rather than shipped as a separate module:
        a module with viper code only compiles with `mpy-cross -march=...`, and this way every
        file compiles for any target while the ESP32 (xtensawin emitter) and the unix port
        (x64) still run the loop 10x faster than bytecode (micropython-esp32.md §3).
        """
        scope = {}
        try:
            exec(VIPER_CRC16, scope)
        except Exception:  # no emitter on this port (SyntaxError / ValueError): use bytecode
            return None
        return scope["crc_update"]

except ImportError:
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    MICROPYTHON = False

    def const(value):
        return value

    def aes_ecb_encrypt(key, data):
        enc = Cipher(algorithms.AES(bytes(key)), modes.ECB()).encryptor()
        return enc.update(bytes(data)) + enc.finalize()

    def aes_cbc_encrypt(key, iv, data):
        enc = Cipher(algorithms.AES(bytes(key)), modes.CBC(bytes(iv))).encryptor()
        return enc.update(bytes(data)) + enc.finalize()

    def aes_cbc_decrypt(key, iv, data):
        dec = Cipher(algorithms.AES(bytes(key)), modes.CBC(bytes(iv))).decryptor()
        return dec.update(bytes(data)) + dec.finalize()

    def native_crc_update():
        return None


# Running CRC-16/EN-13757 (no final XOR) over data[start:end] with the 512-byte big-endian
# table of crc.py. Tested on the unix port by host_tests; compiled for xtensawin by a test.
VIPER_CRC16 = """
import micropython
@micropython.viper
def crc_update(crc: int, data: ptr8, start: int, end: int, table: ptr8) -> int:
    i = start
    while i < end:
        j = ((crc >> 8) ^ data[i]) << 1
        crc = ((crc << 8) & 0xFF00) ^ ((table[j] << 8) | table[j + 1])
        i += 1
    return crc
"""
