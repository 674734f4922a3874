"""Seeded mutation fuzzer for Decoder.decode: the same frames on CPython and on MicroPython.

    fuzz.py [--lib=DIR] N [seed]

Starts from valid telegrams of every framing the decoder knows (below, made for this file:
plaintext short and long TPL, AES modes 5 and 7, ELL AES-CTR full and compact, format and compact
frames, DLL CRCs of frame A and B, wired M-Bus) plus the shared bench set when it is there, and
mutates them: bit flips, byte replacement, truncation, insertion, duplicated slices, a random L,
random bytes. Half the mutants get their length fields repaired so that they reach the layers
behind the length checks. One Decoder, holding the seeds' keys, decodes them all, as the
gateway's would. Every result must be a dict with a `records` list, a str `decode_error` if any,
must survive json.dumps and must not show the key. An exception, or decode_error "internal"
(an exception that decode() caught: a bug, or on MicroPython also a MemoryError), is a
finding: the first one's frame is printed and the exit status is 1. The generator is a
xorshift32 of our own, so a seed gives the same frames on every interpreter.
"""

import gc
import json
import sys
from binascii import hexlify, unhexlify

import libpath  # noqa: E402

LIB = libpath.setup(__file__)

from wmbus import Decoder  # noqa: E402

INTERPRETER = sys.implementation.name

# One key for every seed meter; distinctive, so that a leak into the output is easy to spot.
FUZZ_KEY_HEX = "5EC12E7C0FFEE0DDBA11F00DCAFEBABE"
FUZZ_METERS = ("12345678", "33333333", "44444444", "55555555", "66666666", "77777777")

# (name, frame hex): L first, DLL CRCs removed unless the name says otherwise.
SEEDS = (
    # FUZ 12345678 water, short TPL, mode 0: BCD8 volume, type F and G dates, error flags,
    # storage 1, int16 temperature, LVAR text, RF level, tariff, subunit, real32, DIF 0F.
    ("tpl7a_plain", "5144BA1A7856341201077A010000000C1378563412046D1E0C113502FD1700004C1334002001"
                    "426C9135025B15000DFD11045A5A554601FD71B584101309030000C4401305000000052B0000C0"
                    "3F0F010203"),
    # Radio adapter FUZ 22222222 in the DLL, meter FUZ 33333333 in a long TPL header, mode 5.
    ("tpl72_mode5_adapter", "2644BA1A2222222220377233333333BA1A020742001005591A245B36ACAFC8EFBF88"
                            "881E51D3F2"),
    # KAM 44444444 cold water, ELL 8D AES-CTR, full frame (CI 78), then its compact frame (79).
    ("ell8d_ctr_full", "2A442D2C444444441B168D201123010020FA3B57315CF730B15EF967BF4459E6A9ECE4BEBF"
                       "89440A0F45B5"),
    ("ell8d_ctr_compact", "23442D2C444444441B168D201223010020393D56DE0B69B2C05A8E76A64451BBBAE4ED"
                          "AA"),
    # FUZ 55555555 gas, ELL 8C + AFL (counter, CMAC-8) + short TPL, mode 7.
    ("ell8c_afl_mode7", "4344BA1A5555555503038C2075900F002C25B30A0000ADE0355E2335C7EF7A7500200710"
                        "2F4113E2F8D99A5F91BE3A69EF940517C3E9409431A190FF0F64D467CD5ECD44"),
    # FUZ 66666666, ELL 8F (receiver address, session number, ENC = 0) + short TPL.
    ("ell8f_plain", "2944BA1A6666666601078F2000BA1A66666666010723010000B63E7A000000000B13436587"
                    "02FD170000"),
    # FUZ 77777777 heat: format frame (CI 6A) then a compact frame (CI 7B) in that format.
    ("format_6a", "1844BA1A7777777705046A020000000903AF0413025B02FD17"),
    ("compact_7b", "1A44BA1A7777777705047B0300000003AF27A2CD81010037000000"),
    ("alarm_71", "0B44BA1A8888888801077105"),
    # tpl7a_plain with the block CRCs of frame format A; ell8d_ctr_full in frame format B.
    ("tpl7a_frame_a", "5144BA1A7856341201072A457A010000000C1378563412046D1E0C11FED63502FD170000"
                      "4C1334002001426C91352E21025B15000DFD11045A5A554601FD71B58F5184101309030000"
                      "C4401305000000052B71EF0000C03F0F010203CCCF"),
    ("ell8d_frame_b", "2C442D2C444444441B168D201123010020FA3B57315CF730B15EF967BF4459E6A9ECE4BE"
                      "BF89440A0F45B53065"),
)

# Wired M-Bus RSP_UD bodies (C A CI ...): 68 L L 68 and the checksum are added by wired().
WIRED_BODIES = (
    # Long TPL, FUZ 12345678 heat: energy, volume, power (x10^-1 W), flow and return
    # temperatures, storage 1 date, error flags, DIF 1F (more records follow).
    "08057278563412BA1A01042A0000000C0678563412041300100000022A2C01025A5802025E2C01426C9135"
    "02FD1700001F",
)


def wired(body):
    return bytes((0x68, len(body), len(body), 0x68)) + body + bytes((sum(body) & 0xFF, 0x16))


def seed_frames():
    """The seeds as bytes, and the keys that open them."""
    frames = [unhexlify(h) for _, h in SEEDS] + [wired(unhexlify(b)) for b in WIRED_BODIES]
    keys = dict((meter, FUZZ_KEY_HEX) for meter in FUZZ_METERS)
    return frames, keys


def bench_seeds(frames, keys):
    """The shared bench set as extra seeds, when the shared folder is beside the repository."""
    try:
        f = open(libpath.root(__file__) + "/../shared/vectors/bench_set.jsonl")
    except OSError:
        return
    with f:
        for line in f:
            if line.strip():
                row = json.loads(line)
                frames.append(unhexlify(row["telegram"]))
                if row.get("key") and row["key"] != "NOKEY":
                    keys[row["id"]] = row["key"]


class XorShift32:
    """Marsaglia's xorshift32: the same numbers on every interpreter."""

    def __init__(self, seed):
        self.state = (seed * 2654435761 + 0x9E3779B9) & 0xFFFFFFFF or 1

    def next(self):
        x = self.state
        x ^= (x << 13) & 0xFFFFFFFF
        x ^= x >> 17
        x ^= (x << 5) & 0xFFFFFFFF
        self.state = x
        return x

    def below(self, n):
        return self.next() % n if n > 0 else 0

    def bytes(self, n):
        return bytes(self.next() & 0xFF for _ in range(n))


# Byte values that mean something to some layer: fillers, DIF specials, extension bits, CIs.
INTERESTING = b"\x00\x01\x0f\x1f\x2f\x44\x68\x72\x78\x79\x7a\x7f\x80\x8c\x8d\x8f\x90\xfd\xfe\xff"


def mutate(rng, frame):
    f = bytearray(frame)
    for _ in range(1 + rng.below(4)):
        n = len(f)
        op = rng.below(9)
        if op == 0 and n:  # bit flip
            f[rng.below(n)] ^= 1 << rng.below(8)
        elif op == 1 and n:  # byte replacement
            f[rng.below(n)] = rng.next() & 0xFF
        elif op == 2 and n:  # a byte that a layer cares about
            f[rng.below(n)] = INTERESTING[rng.below(len(INTERESTING))]
        elif op == 3:  # truncation
            f[rng.below(n + 1):] = b""
        elif op == 4:  # insertion
            i = rng.below(n + 1)
            f[i:i] = rng.bytes(1 + rng.below(8))
        elif op == 5 and n:  # a slice duplicated somewhere
            i = rng.below(n)
            part = f[i : i + 1 + rng.below(32)]
            j = rng.below(n + 1)
            f[j:j] = part
        elif op == 6 and n:  # random L
            f[0] = rng.next() & 0xFF
        elif op == 7 and n:  # a slice removed
            i = rng.below(n)
            f[i : i + 1 + rng.below(16)] = b""
        elif op == 8:  # random bytes of random length
            f = bytearray(rng.bytes(rng.below(300)))
    if rng.below(2):
        repair(f)
    return bytes(f)


def repair(f):
    """Make the length fields agree with the bytes again (and a wired frame's checksum), so that
    the frame is judged by the layers behind them."""
    n = len(f)
    if n >= 6 and f[0] == 0x68 and f[3] == 0x68 and n - 6 <= 255:
        f[1] = f[2] = n - 6
        f[n - 2] = sum(f[4 : n - 2]) & 0xFF
        f[n - 1] = 0x16
    elif 0 < n <= 256:
        f[0] = n - 1


def problem(result, key_texts):
    """What is wrong with a decode result, or None."""
    if not isinstance(result, dict):
        return "not a dict: %r" % (result,)
    if not isinstance(result.get("records"), list):
        return "no records list"
    err = result.get("decode_error")
    if err is not None and not isinstance(err, str):
        return "decode_error %r is not a str" % (err,)
    text = json.dumps(result)
    for k in key_texts:
        if k in text:
            return "the key appears in the output"
    if err == "internal":
        return "decode_error internal: decode() caught an exception"
    return None


def fuzz(n, seed):
    frames, keys = seed_frames()
    bench_seeds(frames, keys)
    decoder = Decoder(keys)
    for frame in frames:  # learn the compact formats first; the seeds must decode cleanly
        err = decoder.decode(frame).get("decode_error")
        if err is not None:
            print("seed %s: decode_error %s" % (hexlify(frame).decode(), err))
    key_texts = set()
    for k in keys.values():
        key_texts.add(k.lower())
        key_texts.add(k.upper())
    rng = XorShift32(seed)
    codes = {}
    findings = 0
    first = None
    for i in range(n):
        frame = mutate(rng, frames[rng.below(len(frames))])
        try:
            result = decoder.decode(frame)
            why = problem(result, key_texts)
            code = result.get("decode_error") if isinstance(result, dict) else None
        except MemoryError as e:  # outside decode() (inside, it is decode_error "internal")
            why = "raised %r" % (e,)
            code = "(MemoryError)"
        except Exception as e:  # noqa: BLE001 - this is what we are looking for
            why = "raised %r" % (e,)
            code = "(raised)"
        code = code or "(no decode_error)"
        codes[code] = codes.get(code, 0) + 1
        if why is not None:
            findings += 1
            if first is None:
                first = (why, hexlify(frame).decode())
        if i % 256 == 0:
            gc.collect()
    return codes, findings, first


def main(argv):
    argv = [a for a in argv if not a.startswith("--lib=")]
    if not 1 <= len(argv) <= 2:
        print("usage: fuzz.py [--lib=DIR] N [seed]")
        return 2
    n = int(argv[0])
    seed = int(argv[1]) if len(argv) > 1 else 1
    codes, findings, first = fuzz(n, seed)
    print("fuzz (%s): %d frames, %d exceptions (seed %d)" % (INTERPRETER, n, findings, seed))
    for code, count in sorted(codes.items(), key=lambda kv: (-kv[1], kv[0])):
        print("  %-22s %7d" % (code, count))
    if first is not None:
        print("first finding: %s\n  frame %s" % first)
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
