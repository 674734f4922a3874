#!/usr/bin/env python3
"""wmbus: decode, explain and build wireless M-Bus telegrams on the host (CPython).

    tools/wmbus.py decode [HEX ...] [-f FILE] [--key ID:HEX] [--keys FILE] [--pretty] [--strict]
    tools/wmbus.py explain HEX [HEX ...] [--key ID:HEX] [--keys FILE]
    tools/wmbus.py build --id 12345678 --ci 7A --record 0413:6408 [--format A] ...

The decoding is lib/wmbus's, exactly as the gateway runs it; this file only reads input, loads
keys and formats output. Keys are never printed, not even in error messages.
Exit status: 0 ok, 1 a telegram had a decode_error (decode --strict only), 2 usage or config error.
"""

import argparse
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
# This file is named like the package it uses: keep its own directory off the path so that
# `import wmbus` finds lib/wmbus.
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != HERE]
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "lib"))

from wmbus import Decoder, build, phy, records, tpl  # noqa: E402

# ---------------------------------------------------------------------------------------------
# Errors and secrets

HEX_RUN = re.compile(r"[0-9A-Fa-f]{16,}")


class ConfigError(Exception):
    """A usage or configuration error: printed as one line, exit status 2."""


class Parser(argparse.ArgumentParser):
    def error(self, message):
        # argparse quotes offending arguments; one of them may be a key (`--kee 1234:<key>`).
        self.print_usage(sys.stderr)
        self.exit(2, "%s: error: %s\n" % (self.prog, HEX_RUN.sub("<hex hidden>", message)))


# ---------------------------------------------------------------------------------------------
# Input

SEPARATORS = re.compile(r"[_|:]")
HEX = re.compile(r"^(?:[0-9A-Fa-f]{2})+$")

INPUT_RULES = """\
input: each HEX argument, each line of -f FILE (repeatable, - is standard input), or else each
line of standard input is one telegram, from its L field, with or without DLL CRCs (frame
formats A and B are recognised), or a wired M-Bus long frame (68 L L 68 ...).
  - blank lines and lines starting with # are skipped; # starts a comment anywhere;
  - _ | and : are ignored anywhere in the hex;
  - when the first whitespace-separated column alone holds the whole telegram (at least L+1
    bytes, L being its first byte), further columns (a delay, an RSSI...) are ignored;
    otherwise the whole line is the telegram, written in groups: spaces are ignored too.
"""

KEY_RULES = """\
keys: --key ID:HEX (repeatable) and --keys FILE, whose lines are "ID HEX", "ID:HEX" or
"ID,HEX" (# comments, blank lines); ID is the 8-digit meter id, HEX the 32-digit AES-128 key.
A --key wins over the file for the same meter. Keys are never printed.
"""


def parse_telegram(text):
    """One input line -> bytes, or None for a blank/comment line. Raises ValueError if not hex."""
    text = text.split("#", 1)[0].strip()
    if not text:
        return None
    columns = text.split()
    first = SEPARATORS.sub("", columns[0])
    if HEX.match(first):
        frame = bytes.fromhex(first)
        wired = len(frame) >= 4 and frame[0] == 0x68 and frame[3] == 0x68
        if len(frame) >= (frame[1] + 6 if wired else frame[0] + 1):
            return frame
    joined = SEPARATORS.sub("", "".join(columns))
    if not HEX.match(joined):
        raise ValueError("bad_hex")
    return bytes.fromhex(joined)


def bad_hex(where):
    out = {"records": [], "decode_error": "bad_hex", "id": None, "manufacturer": None,
           "version": None, "device_type": None, "media": None}
    out.update(where)
    return out


def _lines(path):
    """(line number, line) of a file, or of standard input for `-`."""
    if path == "-":
        yield from enumerate(sys.stdin, 1)
        return
    try:
        f = open(path)
    except OSError as e:
        raise ConfigError("cannot read %s: %s" % (path, e.strerror))
    with f:
        yield from enumerate(f, 1)


# ---------------------------------------------------------------------------------------------
# Keys

METER_ID = re.compile(r"^[0-9A-Fa-f]{8}$")
LOOKS_LIKE_KEY = re.compile(r"^\s*[0-9A-Fa-f]{8}\s*[:,]\s*[0-9A-Fa-f]{32}\s*$")
KEY_SPLIT = re.compile(r"[\s,:]+")


def _key(meter_id, text, where):
    """Validate one key; `where` names the place for the error. The key text is never shown."""
    if not METER_ID.match(meter_id):
        raise ConfigError("%s: expected an 8-digit meter id first, then the key" % where)
    digits = "".join(text.split())
    if not digits:
        raise ConfigError("%s: no key for meter %s" % (where, meter_id))
    if not re.match(r"^[0-9A-Fa-f]*$", digits):
        raise ConfigError("%s: the key for meter %s is not hex" % (where, meter_id))
    if len(digits) != 32:
        raise ConfigError("%s: the key for meter %s has %d hex digits, an AES-128 key has 32"
                          % (where, meter_id, len(digits)))
    return meter_id.lower(), bytes.fromhex(digits)


def load_keys(files, key_args):
    keys = {}
    seen = {}
    for path in files:
        for n, line in _lines(path):
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            parts = KEY_SPLIT.split(line, 1)
            where = "%s line %d" % (path, n)
            meter_id, key = _key(parts[0], parts[1] if len(parts) > 1 else "", where)
            if meter_id in seen:
                raise ConfigError("%s: meter %s already has a key (%s)" % (where, meter_id, seen[meter_id]))
            seen[meter_id] = where
            keys[meter_id] = key
    for n, arg in enumerate(key_args, 1):
        parts = arg.split(":", 1)
        if len(parts) != 2:
            raise ConfigError("--key #%d: expected ID:HEX (meter id, colon, 32 hex digits)" % n)
        meter_id, key = _key(parts[0].strip(), parts[1], "--key #%d" % n)
        keys[meter_id] = key
    return keys


def add_key_options(p):
    p.add_argument("--key", action="append", default=[], metavar="ID:HEX",
                   help="AES-128 key of a meter (repeatable)")
    p.add_argument("--keys", action="append", default=[], metavar="FILE",
                   help="file of keys, one meter a line (repeatable)")


# ---------------------------------------------------------------------------------------------
# decode


def refuse_keys_as_telegrams(texts):
    # `wmbus decode ID:KEY` (without --key) would decode the key's bytes and print some of them.
    for n, text in enumerate(texts, 1):
        if LOOKS_LIKE_KEY.match(text):
            raise ConfigError("argument #%d looks like ID:KEY: give keys with --key" % n)


# The keys of a decode result that are not readings (link details, the records themselves).
_NOT_READINGS = ("id", "manufacturer", "version", "device_type", "media", "records", "c_field",
                 "ci", "access_number", "tpl_status", "security_mode", "dll_id", "meter",
                 "format_signature", "decode_error", "manufacturer_data")


def readings_line(result):
    """One line a person reads: who sent it, then its readings as the top-level fields name them
    (the driver's or the generic scheme's), or else each record's value and unit."""
    head = "%s %s %s" % (result.get("id"), result.get("manufacturer"), result.get("media"))
    if result.get("meter"):
        head += " (%s)" % result["meter"]
    parts = ["%s %s" % (k, v) for k, v in result.items() if k not in _NOT_READINGS and v != ""]
    if not parts:
        for rec in result.get("records", ()):
            name = rec["quantity"]
            if rec.get("qualifier"):
                name += " " + rec["qualifier"]
            if rec["storage"]:
                name += " (storage %d)" % rec["storage"]
            if rec["function"] != "instantaneous":
                name += " " + rec["function"]
            unit = " " + rec["unit"] if rec["unit"] else ""
            parts.append("%s %s%s" % (name, rec["value"], unit))
    if "decode_error" in result:
        parts.append("decode_error %s" % result["decode_error"])
    return "%s: %s" % (head, "; ".join(parts) or "no readings")


def cmd_decode(args):
    refuse_keys_as_telegrams(args.hex)
    decoder = Decoder(load_keys(args.keys, args.key))
    indent = 2 if args.pretty else None
    failed = False

    def emit(result):
        nonlocal failed
        failed = failed or "decode_error" in result
        if args.readings:
            print(readings_line(result), flush=True)
        else:
            print(json.dumps(result, indent=indent), flush=True)

    def one(text, where):
        try:
            frame = parse_telegram(text)
        except ValueError:
            if "arg" in where and os.path.isfile(text):
                print("wmbus: %r is a file: read it with -f %s" % (text, text), file=sys.stderr)
            emit(bad_hex(where))
            return
        if frame is not None:
            emit(decoder.decode(frame))

    for n, text in enumerate(args.hex, 1):
        one(text, {"arg": n})
    files = args.file or ([] if args.hex else ["-"])
    for path in files:
        if path == "-" and sys.stdin.isatty():
            print("wmbus: reading telegrams from standard input (end with Ctrl-D)", file=sys.stderr)
        for n, line in _lines(path):
            one(line, {"file": "<stdin>" if path == "-" else path, "line": n})
    return 1 if failed and args.strict else 0


# ---------------------------------------------------------------------------------------------
# explain

BYTES_PER_LINE = 8


def crc_free_frame(raw):
    """The bytes the decoder's trace offsets refer to, the bytes it ignored, and notes."""
    n = len(raw)
    if n >= 6 and raw[0] == 0x68 and raw[3] == 0x68:  # the decoder's own test for a wired frame
        return raw, b"", ["wired M-Bus long frame (68 L L 68 ... CS 16): no DLL CRCs, offsets are "
                          "into the frame as given"]
    status, f, fmt = phy.strip_crcs(raw)
    if f is None:
        return raw, b"", ["the DLL CRCs do not check (or the frame is too short to hold them): "
                          "the %d bytes are shown as received" % n]
    notes = []
    if fmt == phy.FORMAT_NONE:
        notes.append("no DLL CRCs in the input (already removed by the receiver): %d bytes" % len(f))
    else:
        notes.append("frame format %s: %d bytes received, the DLL CRCs were checked and removed, "
                     "leaving %d; offsets below are into the frame without CRCs" % (fmt, n, len(f)))
        if fmt == phy.FORMAT_B:
            notes.append("in format B, L counts the CRCs: it is shown rewritten to %d, as in the frame "
                         "without CRCs" % f[0])
    if status == phy.CRC:
        notes.append("a DLL block CRC does not check: only the %d bytes before the damaged block are "
                     "shown (received: %s)" % (len(f), raw.hex().upper()))
    elif status == phy.TRUNCATED:
        notes.append("the frame is shorter than its L field says (L = %d)" % raw[0])
    ignored = b""
    if fmt == phy.FORMAT_NONE and status == phy.OK and len(f) < n:
        ignored = raw[len(f):]
        notes.append("%d byte%s after the end that L sets %s ignored by the decoder (an RSSI byte "
                     "appended by the receiver?): shown last" % (
                         len(ignored), "s" if len(ignored) > 1 else "", "are" if len(ignored) > 1 else "is"))
    return f, ignored, notes


def decrypted_parts(frame, trace):
    """The frame with the bytes the decoder decrypted put in place, and [(start, end, what)] of
    those parts. The decoder reports them as trace entries of layer "frame"."""
    out = []
    plain = bytearray(frame)
    for start, end, layer, field, data in trace:
        if layer == "frame" and field.startswith("decrypted ") and end <= len(frame):
            plain[start:end] = data
            out.append((start, end, field[len("decrypted "):]))
    return bytes(plain), out


def table_rows(frame, trace, result):
    """(start, end, layer, field, meaning) covering every byte of `frame`, in order; the bytes no
    trace entry describes get a row with layer and field `?`."""
    err = result.get("decode_error")
    rows = []
    pos = 0

    def gap(start, end, last):
        if last and err:
            meaning = "not decoded: decoding stopped with %s" % err
        else:
            meaning = "not described by the decoder"
        rows.append((start, end, "?", "?", meaning))

    for start, end, layer, field, meaning in sorted(trace, key=lambda t: t[0]):
        if layer == "frame":
            continue
        end = min(end, len(frame))
        if start > pos:
            gap(pos, start, False)
        rows.append((start, end, layer, field, meaning))
        pos = max(pos, end)
    if pos < len(frame):
        gap(pos, len(frame), True)
    return rows


def render_table(frame, rows, ignored, encrypted):
    """The table as lines; rows starting in an encrypted part get a * after their offset."""
    lines = []
    body = []
    for start, end, layer, field, meaning in rows:
        chunk = frame[start:end]
        pieces = [chunk[i:i + BYTES_PER_LINE] for i in range(0, len(chunk), BYTES_PER_LINE)] or [b""]
        for i, piece in enumerate(pieces):
            at = start + i * BYTES_PER_LINE
            mark = "*" if any(s <= at < e for s, e, _ in encrypted) else " "
            hexes = " ".join("%02X" % b for b in piece)
            if i == 0:
                body.append((str(at) + mark, hexes, layer, field, meaning))
            else:
                body.append((str(at) + mark, hexes, "", "", ""))
    if ignored:
        body.append(("%d " % len(frame), " ".join("%02X" % b for b in ignored), "-", "ignored",
                     "after the end set by L"))
    head = ("offset", "bytes", "layer", "field", "meaning")
    widths = [max(len(r[i]) for r in body + [head]) for i in range(4)]
    widths[1] = max(widths[1], 3 * BYTES_PER_LINE - 1)
    fmt = "%{0}s  %-{1}s  %-{2}s  %-{3}s  %s".format(*widths)
    lines.append(fmt % head)
    lines.append(fmt % tuple("-" * w for w in widths + [7]))
    for r in body:
        lines.append((fmt % r).rstrip())
    return lines


def _meter(result):
    return result.get("id") or "?"


ERRORS = {
    "bad_hex": lambda r: "the input is not hex",
    "crc": lambda r: "a CRC does not check: the telegram was damaged in reception (DLL block CRC, "
                     "ELL payload CRC of an unencrypted payload, or the wired M-Bus checksum)",
    "truncated": lambda r: "the telegram ends before its fields do: it was cut short in reception, "
                           "or a length field is wrong",
    "no_key": lambda r: "the payload is encrypted and no key is configured for meter %s: add one "
                        "with --key %s:<32 hex digits>" % (_meter(r), _meter(r)),
    "decrypt_failed": lambda r: "the key for meter %s does not decrypt this telegram (wrong key?)"
                                % _meter(r),
    "mac_failed": lambda r: "the AFL message authentication code does not verify for meter %s: "
                            "wrong key, or the telegram was altered" % _meter(r),
    "unknown_format": lambda r: "this compact frame (format signature %s) needs the record headers "
                                "of a full frame of meter %s with the same format, and none has "
                                "been decoded in this run: give that full frame first (explain "
                                "FULL COMPACT)" % (r.get("format_signature", "?"), _meter(r)),
    "unsupported_ci": lambda r: "CI 0x%02X is not decoded here (manufacturer specific or a "
                                "protocol this decoder does not read)" % r.get("ci", 0),
    "unsupported_security": lambda r: "the telegram uses a security mode or encryption this "
                                      "decoder does not support%s" % (
                                          " (TPL security mode %d)" % r["security_mode"]
                                          if r.get("security_mode") else ""),
    "bad_record": lambda r: "a data record (DIF/VIF) is malformed or unsupported: the records "
                            "after it cannot be read",
    "fragmented": lambda r: "the telegram is one fragment of a longer message (AFL), and "
                            "reassembly is not supported",
    "bad_afl": lambda r: "the authentication and fragmentation layer (CI 0x90) is malformed",
    "compact_crc": lambda r: "the compact frame's data do not match its full-frame CRC: the "
                             "learnt format does not fit, or the data were damaged",
    "internal": lambda r: "the decoder failed on this telegram (a bug): please report it with "
                          "the telegram's hex",
}


def error_sentence(result):
    err = result.get("decode_error")
    if err is None:
        n = len(result.get("records", ()))
        return "decoded without error: %d record%s" % (n, "" if n == 1 else "s")
    why = ERRORS.get(err)
    return "decode_error %s: %s" % (err, why(result) if why else "(no explanation for this code)")


def explain(decoder, raw, out):
    trace = []
    result = decoder.decode(raw, trace)
    frame, ignored, notes = crc_free_frame(raw)
    frame, encrypted = decrypted_parts(frame, trace)
    for start, end, what in encrypted:
        notes.append("offsets %d-%d (marked *) arrived encrypted (%s): shown decrypted"
                     % (start, end - 1, what))
    for note in notes:
        out.append("note: " + note)
    out.append("")
    out.extend(render_table(frame, table_rows(frame, trace, result), ignored, encrypted))
    out.append("")
    out.append(json.dumps(result, indent=2))
    out.append("")
    out.append(error_sentence(result))


def cmd_explain(args):
    refuse_keys_as_telegrams(args.hex)
    frames = []
    for n, text in enumerate(args.hex, 1):
        try:
            frame = parse_telegram(text)
        except ValueError:
            frame = None
        if frame is None:
            raise ConfigError("telegram #%d is not hex" % n)
        frames.append(frame)
    decoder = Decoder(load_keys(args.keys, args.key))
    for n, frame in enumerate(frames, 1):
        out = []
        if len(frames) > 1:
            out.append("%s telegram %d of %d %s" % ("=" * 20, n, len(frames), "=" * 20))
        explain(decoder, frame, out)
        if n < len(frames):
            out.append("")
        print("\n".join(out))
    return 0


# ---------------------------------------------------------------------------------------------
# build

FORMATS = {"none": "none", "a": "A", "b": "B", "t1": "T1"}
COMPACT_CI = (0x73, 0x79, 0x7B)  # EN 13757-7 Table 2: long, none, short header + compact frame


def int_arg(text):
    """Decimal, or hex with 0x."""
    t = text.strip().lower()
    return int(t[2:], 16) if t.startswith("0x") else int(t, 10)


def hex_byte(text):
    """A code the standard writes in hex (C, CI, ELL CI): 78 or 0x78."""
    t = text.strip().lower()
    return int(t[2:] if t.startswith("0x") else t, 16)


def _byte(name, value, lo=0, hi=255):
    if not lo <= value <= hi:
        raise ConfigError("%s must be in 0x%02X..0x%02X" % (name, lo, hi))
    return value


def record_item(spec):
    """HDR:VALUE -> (header bytes, value) as wmbus.build.records takes them."""
    hdr_text, sep, value_text = spec.partition(":")
    try:
        hdr = bytes.fromhex(hdr_text)
        if not hdr or records.header_end(hdr, 0, len(hdr)) != len(hdr):
            raise ValueError
    except (ValueError, records.RecordError):
        raise ConfigError("--record %s: %r is not one complete DIF/DIFE/VIF/VIFE header (hex)"
                          % (spec, hdr_text))
    field = hdr[0] & 0x0F
    if field in (0x0, 0x8):  # no data
        return hdr, 0
    if field == 0xF:
        raise ConfigError("--record %s: DIF 0x%02X (special function) has no value to encode"
                          % (spec, hdr[0]))
    if not sep:
        raise ConfigError("--record %s: a value is needed (HDR:VALUE)" % spec)
    if field == 0xD:  # LVAR: a string, of at most 0xBF bytes (longer LVARs are not text)
        if len(value_text.encode()) > 0xBF:
            raise ConfigError("--record %s...: an LVAR string holds at most 191 bytes" % spec[:16])
        return hdr, value_text
    try:
        if field == 0x5:
            return hdr, float(value_text)
        value = int_arg(value_text.lstrip("-"))
        value = -value if value_text.strip().startswith("-") else value
    except ValueError:
        raise ConfigError("--record %s: %r is not a number" % (spec, value_text))
    if field not in (0x9, 0xA, 0xB, 0xC, 0xE):  # binary integers; BCD is checked by build
        bits = 8 * len(build.encode_value(field, 0))
        if not -(1 << (bits - 1)) <= value < (1 << bits):
            raise ConfigError("--record %s: %d does not fit in %d bits" % (spec, value, bits))
    try:
        build.record(hdr, value)
    except ValueError as e:  # BCD digits
        raise ConfigError("--record %s: %s" % (spec, e))
    return hdr, value


def cmd_build(args):
    m = args.manufacturer.upper()
    if not re.match(r"^[A-Z]{3}$", m):
        raise ConfigError("--manufacturer must be three letters (e.g. KAM)")
    if not METER_ID.match(args.id):
        raise ConfigError("--id must be 8 digits (e.g. 12345678)")
    items = [record_item(s) for s in args.record]
    ci = args.ci
    if ci is None:
        ci = 0x79 if args.compact else 0x7A
    _byte("--ci", ci)
    if args.compact and ci not in COMPACT_CI:
        raise ConfigError("--compact needs a compact-frame CI (0x79, 0x7B or 0x73), not 0x%02X" % ci)
    if not args.compact and ci in COMPACT_CI:
        raise ConfigError("CI 0x%02X carries a compact frame: add --compact" % ci)
    if args.ell is not None:
        _byte("--ell", args.ell, 0x8C, 0x8F)
    key = None
    if args.key is not None:
        digits = "".join(args.key.split())
        if not re.match(r"^[0-9A-Fa-f]{32}$", digits):
            raise ConfigError("--key must be 32 hex digits (AES-128)")
        key = bytes.fromhex(digits)
    if args.mode != 0:
        if key is None:
            raise ConfigError("--mode %d needs --key" % args.mode)
        if tpl.CI[ci] == tpl.NOT_TPL or tpl.CI[ci] >> 4 == tpl.HDR_NONE:
            raise ConfigError("--mode %d needs a CI with a TPL header (0x7A short, 0x72 long...), "
                              "not 0x%02X" % (args.mode, ci))
    if key is not None and args.mode == 0 and args.ell not in (0x8D, 0x8F):
        raise ConfigError("--key is used only with --mode 5/7 or --ell 8D/8F")
    try:
        apl = build.compact(*items) if args.compact else build.records(*items)
        frame = build.telegram(
            apl, manufacturer=m, meter_id=args.id, version=_byte("--version", args.version),
            device_type=_byte("--type", args.type), c_field=_byte("--c-field", args.c_field), ci=ci,
            access_number=_byte("--access-number", args.access_number), mode=args.mode, key=key,
            ell=args.ell)
    except ValueError as e:
        raise ConfigError(str(e))
    fmt = args.format
    if fmt == "A":
        frame = build.frame_a(frame)
    elif fmt == "B":
        frame = build.frame_b(frame)
    elif fmt == "T1":
        frame = build.t1(frame)
    print(frame.hex().upper())
    return 0


# ---------------------------------------------------------------------------------------------


def make_parser():
    top = Parser(prog="wmbus", description="Decode, explain and build wireless M-Bus telegrams.",
                 epilog="exit status: 0 ok, 1 a decode_error (decode --strict only), 2 usage or "
                        "config error")
    sub = top.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    raw = argparse.RawDescriptionHelpFormatter

    p = sub.add_parser("decode", help="decode telegrams to JSON, one line each",
                       formatter_class=raw, epilog=INPUT_RULES + "\n" + KEY_RULES + """
output: one JSON object per telegram, in input order (the decoder's result). A line that is not
hex gives {"decode_error": "bad_hex", "file": ..., "line": N} ("arg": N for HEX arguments).
One decoder serves the whole run: a compact frame decodes after a full frame of its meter.""")
    p.add_argument("hex", nargs="*", metavar="HEX", help="telegram(s) in hex")
    p.add_argument("-f", "--file", action="append", default=[], metavar="FILE",
                   help="read telegrams from FILE, one a line (- for standard input; repeatable)")
    add_key_options(p)
    p.add_argument("--pretty", action="store_true", help="indent the JSON")
    p.add_argument("--readings", action="store_true",
                   help="one plain line per telegram (meter, then each value and unit) instead of JSON")
    p.add_argument("--strict", action="store_true",
                   help="exit with status 1 if any telegram had a decode_error")
    p.set_defaults(run=cmd_decode)

    p = sub.add_parser("explain", help="annotate a telegram byte by byte",
                       formatter_class=raw, epilog="""\
Prints notes on the framing (DLL CRCs, frame format), a table of the bytes of the frame
without CRCs (offset, bytes, layer, field, meaning: rows marked ? are bytes the decoder does not
describe), the decoded JSON, and the decode_error in words. Several telegrams are explained in
turn by one decoder, so `explain FULL COMPACT` shows a compact frame after its full frame.
Telegrams are written as for decode (separators _ | : and spaces are ignored).

""" + KEY_RULES)
    p.add_argument("hex", nargs="+", metavar="HEX", help="telegram(s) in hex")
    add_key_options(p)
    p.set_defaults(run=cmd_explain)

    p = sub.add_parser("build", help="build a telegram (wmbus.build) and print its hex",
                       formatter_class=raw, epilog="""\
Integers are decimal or 0x-prefixed hex; C, CI and ELL codes are hex (78 or 0x78).
--record HDR:VALUE: HDR is the record header (DIF DIFE... VIF VIFE...) in hex, VALUE the raw,
unscaled value: an integer (BCD and binary per the DIF), a float for DIF x5, a string for
LVAR (DIF xD). Examples: --record 0413:6408 (6.408 m3) --record 02FF20:0x71 --record 0DFD11:ABC
--compact: the records become a compact frame (signature, full-frame CRC, data); CI 79 by default.
--format: none (the frame without CRCs, as decode and the shared vectors take it), A or B
(with DLL CRCs), T1 (frame format A in 3-of-6 chips, with the postamble).""")
    p.add_argument("--manufacturer", default="KAM", help="three letters (default KAM)")
    p.add_argument("--id", default="12345678", help="8-digit meter id (default 12345678)")
    p.add_argument("--version", type=int_arg, default=1, help="version (default 1)")
    p.add_argument("--type", type=int_arg, default=7, help="device type (default 7, water)")
    p.add_argument("--c-field", type=hex_byte, default=0x44, metavar="HEX", help="C field (default 44)")
    p.add_argument("--ci", type=hex_byte, metavar="HEX",
                   help="TPL CI (default 7A short header, 79 with --compact)")
    p.add_argument("--mode", type=int, choices=(0, 5, 7), default=0,
                   help="TPL security mode (5/7 need --key)")
    p.add_argument("--key", metavar="HEX", help="AES-128 key (32 hex digits)")
    p.add_argument("--ell", type=hex_byte, metavar="HEX",
                   help="extended link layer CI 8C-8F (8D/8F are encrypted when --key is given)")
    p.add_argument("--access-number", type=int_arg, default=0, metavar="N",
                   help="access number (TPL, and ELL when present; default 0)")
    p.add_argument("--record", action="append", default=[], metavar="HDR:VALUE",
                   help="a data record (repeatable, in order)")
    p.add_argument("--compact", action="store_true", help="build a compact frame from the records")
    p.add_argument("--format", type=lambda s: FORMATS.get(s.lower(), s), default="none",
                   choices=("none", "A", "B", "T1"), help="output (default none)")
    p.set_defaults(run=cmd_build)
    return top


def main(argv=None):
    args = make_parser().parse_args(argv)
    try:
        return args.run(args)
    except ConfigError as e:
        print("wmbus %s: %s" % (args.command, e), file=sys.stderr)
        return 2
    except BrokenPipeError:  # `wmbus decode ... | head`: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
