# cpython-only: hypothesis
"""Decoder.decode on random and on mutated frames (property tests, hypothesis).

Whatever the bytes: a dict comes back, nothing is raised, the dict is JSON-ready with a `records`
list, `decode_error` is a str when present, and the key shows nowhere in the output. The seeds
and their key are those of tools/fuzz.py, the long-running fuzzer of the same properties.
"""

import json
import os
import sys

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wmbus import Decoder

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import fuzz  # noqa: E402

FRAMES, KEYS = fuzz.seed_frames()
KEY = bytes.fromhex(fuzz.FUZZ_KEY_HEX)
# The key as hex either case, as hex of its reversed bytes (little-endian dumps), as characters.
KEY_TEXTS = (KEY.hex(), KEY.hex().upper(), KEY[::-1].hex(), KEY[::-1].hex().upper())
KEY_CHARS = KEY.decode("latin-1")

# Stable in CI: the same examples every run, no example database, no per-example deadline
# (the first decode of a run builds the tables). About 5 s for the module.
SETTINGS = settings(max_examples=400, derandomize=True, database=None, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


def primed_decoder():
    """A Decoder with the seeds' keys that has seen the seeds: it knows their compact formats."""
    decoder = Decoder(KEYS)
    for frame in FRAMES:
        decoder.decode(frame)
    return decoder


def check(frame):
    result = primed_decoder().decode(frame)
    assert isinstance(result, dict)
    assert isinstance(result["records"], list)
    assert all(isinstance(r, dict) for r in result["records"])
    err = result.get("decode_error")
    assert err is None or isinstance(err, str)
    text = json.dumps(result)
    for key_text in KEY_TEXTS:
        assert key_text not in text
    assert KEY_CHARS not in json.dumps(result, ensure_ascii=False)
    return result


@st.composite
def mutated_seeds(draw):
    """A seed telegram with one to four mutations, its length fields repaired half the time so
    that the mutation reaches the layers behind the length checks."""
    frame = bytearray(draw(st.sampled_from(FRAMES)))
    for _ in range(draw(st.integers(1, 4))):
        n = len(frame)
        op = draw(st.sampled_from(("flip", "byte", "cut", "insert", "duplicate", "remove", "L")))
        i = draw(st.integers(0, max(n - 1, 0)))
        if op == "flip" and n:
            frame[i] ^= 1 << draw(st.integers(0, 7))
        elif op == "byte" and n:
            frame[i] = draw(st.integers(0, 255))
        elif op == "cut":
            del frame[i:]
        elif op == "insert":
            frame[i:i] = draw(st.binary(min_size=1, max_size=8))
        elif op == "duplicate" and n:
            frame[i:i] = frame[draw(st.integers(0, n - 1)) :][: draw(st.integers(1, 32))]
        elif op == "remove" and n:
            del frame[i : i + draw(st.integers(1, 16))]
        elif op == "L" and n:
            frame[0] = draw(st.integers(0, 255))
    if draw(st.booleans()):
        fuzz.repair(frame)
    return bytes(frame)


def test_seeds_decode_cleanly():
    decoder = Decoder(KEYS)
    for frame in FRAMES:  # in order: each compact frame comes after the frame that teaches it
        result = check(frame)
        assert decoder.decode(frame).get("decode_error") is None, frame.hex()
        assert result["id"] is not None


@SETTINGS
@given(st.binary(max_size=300))
def test_random_bytes(frame):
    check(frame)


@SETTINGS
@given(st.binary(min_size=9, max_size=255))
def test_random_bytes_with_a_matching_l_field(body):
    check(bytes((len(body),)) + body)


@SETTINGS
@given(st.sampled_from(FRAMES), st.binary(max_size=120))
def test_seed_link_header_then_random_bytes(seed, tail):
    # The DLL header (and CI) of a seed, then anything: reaches the transport and record layers.
    frame = seed[:11] + tail
    check(bytes((len(frame) - 1,)) + frame[1:])


@SETTINGS
@given(st.binary(min_size=3, max_size=252))
def test_random_wired_frames_with_a_valid_checksum(body):
    check(fuzz.wired(body))


@SETTINGS
@given(mutated_seeds())
def test_mutated_seeds(frame):
    check(frame)
