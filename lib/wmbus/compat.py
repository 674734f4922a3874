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
