"""AES constructions of wM-Bus security, built on whole-message ECB/CBC calls.

* AES-CTR of the extended link layer (EN 13757-4 §13.2, protocol.md §3.5): the counter blocks of
  a whole message are encrypted with one ECB call and XORed with the message as one integer.
* AES-CMAC (RFC 4493) as one CBC call over the subkey-adjusted message: used for the KDF-A key
  derivation of mode 7 and for the AFL MAC (EN 13757-7 §9.3-9.6, protocol.md §3.3-3.4).
* Security mode 5 IV (protocol.md §3.2).
"""

from .compat import aes_cbc_encrypt, aes_ecb_encrypt, aes_cbc_decrypt

ZERO16 = bytes(16)


def xor(a, b):
    """a XOR b[:len(a)] as bytes, with big-integer arithmetic instead of a per-byte loop."""
    n = len(a)
    if n == 0:
        return b""
    if len(b) != n:
        b = b[:n]
    return (int.from_bytes(a, "big") ^ int.from_bytes(b, "big")).to_bytes(n, "big")


def ctr_crypt(key, counter_prefix, data):
    """AES-CTR with a 15-byte counter prefix and a one-byte block counter starting at 0.

    Encryption and decryption are the same operation.
    """
    n = len(data)
    blocks = (n + 15) >> 4
    counters = bytearray((bytes(counter_prefix) + b"\x00") * blocks)
    for i in range(1, blocks):
        counters[16 * i + 15] = i
    return xor(data, aes_ecb_encrypt(key, counters))


def _dbl(block):
    v = int.from_bytes(block, "big") << 1
    if v >> 128:
        v ^= 0x100000000000000000000000000000087
    return v & ((1 << 128) - 1)


def cmac(key, msg):
    """AES-CMAC (RFC 4493), the full 16-byte tag."""
    k1 = _dbl(aes_ecb_encrypt(key, ZERO16))
    n = len(msg)
    if n and n % 16 == 0:
        last = k1
        buf = bytearray(msg)
    else:
        last = _dbl(k1.to_bytes(16, "big"))
        buf = bytearray(msg)
        buf.append(0x80)
        while len(buf) % 16:
            buf.append(0)
    tail = len(buf) - 16
    buf[tail:] = (int.from_bytes(buf[tail:], "big") ^ last).to_bytes(16, "big")
    return aes_cbc_encrypt(key, ZERO16, buf)[-16:]


def kdf_a(master_key, dc, counter, meter_id):
    """KDF-A (EN 13757-7 §9.6.3): one CMAC block DC | MCR(4) | ID(4) | 07 x 7.

    dc: 0x00 Kenc, 0x01 Kmac (meter to collector). counter and meter_id as transmitted (LE bytes).
    """
    return cmac(master_key, bytes((dc,)) + bytes(counter) + bytes(meter_id) + b"\x07" * 7)


def mode5_iv(m_and_address, access_number):
    """Mode 5 IV: M(2) | ID(4) | version | type | ACC x 8 (EN 13757-7 §9.4.3)."""
    return bytes(m_and_address) + bytes((access_number,)) * 8


def cbc_decrypt(key, iv, data):
    return aes_cbc_decrypt(key, iv, data)


def cbc_encrypt(key, iv, data):
    return aes_cbc_encrypt(key, iv, data)
