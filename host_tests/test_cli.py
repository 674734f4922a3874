# cpython-only: runs the CLI with subprocess
"""tools/wmbus.py (decode, explain, build) and the sample telegrams of `make run`."""

import json
import os
import subprocess
import sys

from wmbus import phy

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLI = os.path.join(ROOT, "tools", "wmbus.py")
SAMPLES = os.path.join(ROOT, "tools", "samples")
TELEGRAMS = os.path.join(SAMPLES, "telegrams.txt")
KEYS = os.path.join(SAMPLES, "keys.txt")

KEY = "0F1E2D3C4B5A69788796A5B4C3D2E1F0"  # a test key: must never appear in any output
WRONG_KEY = "F0E1D2C3B4A5968778695A4B3C2D1E0F"


def run(*args, stdin=None):
    p = subprocess.run([sys.executable, CLI] + list(args), input=stdin, capture_output=True,
                       text=True, cwd=ROOT, timeout=30)
    return p.returncode, p.stdout, p.stderr


def json_lines(text):
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def samples():
    """[(comment, hex)] of telegrams.txt."""
    out = []
    comment = None
    with open(TELEGRAMS) as f:
        for line in f:
            line = line.strip()
            if line.startswith("#"):
                comment = line[1:].strip()
            elif line:
                out.append((comment, line))
    return out


def sample(word):
    for comment, hexstr in samples():
        if word in comment:
            return hexstr
    raise KeyError(word)


def sample_key(meter_id):
    with open(KEYS) as f:
        for line in f:
            parts = line.split()
            if parts and parts[0] == meter_id:
                return parts[1]
    raise KeyError(meter_id)


def values(result):
    return [(r["quantity"], r.get("qualifier"), r["storage"], r["value"]) for r in result["records"]]


def assert_no_key(text, *keys):
    for key in keys:
        assert key.upper() not in text.upper()


def table(out):
    """The rows of an explain table: [(offset, bytes, layer, field, meaning)], continuation
    lines folded into their row."""
    lines = out.splitlines()
    i = next(n for n, line in enumerate(lines) if line.strip().startswith("offset"))
    head = lines[i]
    cols = [0] + [head.index(name) for name in ("bytes", "layer", "field", "meaning")] + [None]
    rows = []
    for line in lines[i + 2:]:
        if not line.strip():
            break
        cells = [line[cols[k]:cols[k + 1]].strip() for k in range(5)]
        if cells[2] or not rows:
            rows.append(cells)
        else:
            rows[-1][1] += " " + cells[1]
    return rows


# -- samples ------------------------------------------------------------------------------------


def test_samples_are_generated_from_make_samples():
    p = subprocess.run([sys.executable, os.path.join(SAMPLES, "make_samples.py"), "--check"],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stdout


def test_decode_samples():
    code, out, err = run("decode", "--keys", KEYS, "-f", TELEGRAMS, "--strict")
    assert code == 0, err
    results = json_lines(out)
    assert len(results) == len(samples()) == 7
    for r in results:
        assert "decode_error" not in r, r
    water, compact, heat, oms_water, gas, hca, elec = results
    assert water["id"] == compact["id"] == "57312468"
    assert (water["manufacturer"], water["version"], water["device_type"]) == ("KAM", 0x1B, 0x16)
    assert ("volume", None, 0, 1285.334) in values(water)
    assert ("volume", None, 1, 1234.567) in values(water)
    assert ("flow_temperature", None, 1, 11) in values(water)
    assert ("external_temperature", None, 1, 9) in values(water)
    assert compact["ci"] == 0x79
    assert ("volume", None, 0, 1285.371) in values(compact)
    assert heat["media"] == "heat"
    assert values(heat) == [("energy", None, 0, 4321), ("volume", None, 0, 123.45),
                            ("volume_flow", None, 0, 0.456), ("flow_temperature", None, 0, 65.12),
                            ("return_temperature", None, 0, 42.31)]
    assert oms_water["security_mode"] == 5 and oms_water["ci"] == 0x7A
    assert ("volume", None, 0, 123.456) in values(oms_water)
    assert ("date", None, 1, "2024-12-31") in values(oms_water)
    assert gas["security_mode"] == 7 and gas["media"] == "gas"
    assert ("volume", None, 0, 4.711) in values(gas)
    assert hca["security_mode"] == 0 and ("hca_units", None, 0, 123) in values(hca)
    assert values(elec) == [("energy", None, 0, 123456.7), ("energy", "backward", 0, 4567.8),
                            ("power", None, 0, 1.52)]


def test_decode_pretty_is_indented_json():
    code, out, _ = run("decode", "--pretty", "--keys", KEYS, sample("heat meter"))
    assert code == 0
    assert out.startswith("{\n  ")
    assert json.loads(out)["id"] == "67810243"


def test_kamstrup_compact_frame_decodes_without_its_full_frame():
    # The MULTICAL 21 format is in the built-in table: the first compact frame decodes at once.
    code, out, _ = run("decode", "--keys", KEYS, sample("compact"))
    assert code == 0
    r = json_lines(out)[0]
    assert "decode_error" not in r and r["meter"] == "kamwater" and r["total_m3"] == 1285.371


# -- input forms --------------------------------------------------------------------------------


def test_stdin_with_separators_comments_and_second_column():
    h = sample("heat cost allocator")
    spaced = " ".join(h[i:i + 2] for i in range(0, len(h), 2))
    grouped = "%s_%s|%s:%s" % (h[:20], h[20:30], h[30:40], h[40:])
    text = "\n".join([
        "# comment line",
        "",
        spaced,                   # line 3: bytes separated by spaces
        grouped,                  # line 4: _ | : separators
        h + "  0.5",              # line 5: a second column (a delay) after the whole telegram
        h + "\t17 # trailing comment",
        "2E44ZZ",                 # line 7: not hex
        "   ",
    ]) + "\n"
    code, out, err = run("decode", stdin=text)
    assert code == 0, err
    results = json_lines(out)
    assert len(results) == 5
    for r in results[:4]:
        assert "decode_error" not in r
        assert r["id"] == "11223344"
        assert values(r) == values(results[0])
    assert results[4]["decode_error"] == "bad_hex"
    assert results[4]["line"] == 7
    code, _, _ = run("decode", "--strict", stdin=text)
    assert code == 1


def test_bad_hex_argument_gives_a_json_line():
    code, out, _ = run("decode", "12G4", "2E4")
    assert code == 0
    a, b = json_lines(out)
    assert (a["decode_error"], a["arg"]) == ("bad_hex", 1)
    assert (b["decode_error"], b["arg"]) == ("bad_hex", 2)


# -- keys ---------------------------------------------------------------------------------------


def _mode5_telegram(key):
    code, out, err = run("build", "--manufacturer", "DME", "--id", "90817263", "--ci", "7A",
                         "--mode", "5", "--key", key, "--record", "0413:4242")
    assert code == 0, err
    assert_no_key(out + err, key)
    return out.strip()


def test_key_option_decodes_and_is_never_printed():
    t = _mode5_telegram(KEY)
    code, out, err = run("decode", "--key", "90817263:" + KEY, t)
    assert code == 0
    (r,) = json_lines(out)
    assert "decode_error" not in r and values(r) == [("volume", None, 0, 4.242)]
    assert_no_key(out + err, KEY)

    code, out, err = run("decode", "--key", "90817263:" + WRONG_KEY, t)
    assert json_lines(out)[0]["decode_error"] == "decrypt_failed"
    assert_no_key(out + err, KEY, WRONG_KEY)

    code, out, err = run("explain", "--key", "90817263:" + KEY, t)
    assert code == 0 and "decoded without error" in out
    assert_no_key(out + err, KEY)

    code, out, err = run("explain", "--key", "90817263:" + WRONG_KEY, t)
    assert code == 0
    assert "the key for meter 90817263 does not decrypt this telegram" in out
    assert_no_key(out + err, KEY, WRONG_KEY)

    code, out, err = run("explain", "--key", "11111111:" + KEY, t)
    assert "no key is configured for meter 90817263" in out
    assert "--key 90817263:<32 hex digits>" in out
    assert_no_key(out + err, KEY)


def test_key_given_as_a_telegram_is_refused():
    code, out, err = run("decode", "90817263:" + KEY)
    assert code == 2 and out == ""
    assert "--key" in err
    assert_no_key(out + err, KEY)


def test_bad_keys_file(tmp_path):
    cases = [
        ("90817263 " + KEY[:-1] + "\n", "90817263"),            # 31 digits
        ("# sample\n\n90817263:" + KEY[:-1] + "G\n", "90817263"),  # not hex
        ("90817263," + KEY + "\n90817263 " + KEY + "\n", "90817263"),  # two keys for one meter
        (KEY + " 90817263\n", None),                             # key first: nothing echoed
    ]
    for n, (text, meter) in enumerate(cases):
        path = tmp_path / ("keys%d.txt" % n)
        path.write_text(text)
        for cmd in ("decode", "explain"):
            code, out, err = run(cmd, "--keys", str(path), sample("heat cost allocator"))
            assert code == 2, (text, err)
            assert out == ""
            assert str(path) in err and " line " in err
            if meter:
                assert meter in err
            assert_no_key(out + err, KEY, KEY[:-1], KEY[:-1] + "G")
    code, _, err = run("decode", "--key", "90817263:" + KEY[:30], "00")
    assert code == 2 and "90817263" in err
    assert_no_key(err, KEY[:30])


def test_keys_file_accepts_three_separators(tmp_path):
    path = tmp_path / "keys.txt"
    path.write_text("# test keys\n90817263:%s\n11111111,%s  # comment\n22222222 %s\n"
                    % (KEY, WRONG_KEY, WRONG_KEY))
    code, out, err = run("decode", "--strict", "--keys", str(path), _mode5_telegram(KEY))
    assert code == 0, out + err
    assert_no_key(out + err, KEY, WRONG_KEY)


# -- explain ------------------------------------------------------------------------------------


def test_explain_covers_every_byte_of_the_samples():
    layers = set()
    for comment, hexstr in samples():
        if "compact" in comment:
            continue  # needs its full frame first: see the next test
        code, out, err = run("explain", "--keys", KEYS, hexstr)
        assert code == 0, err
        rows = table(out)
        assert [r for r in rows if r[2] == "?"] == [], comment
        _, frame, _ = phy.strip_crcs(bytes.fromhex(hexstr))
        shown = bytes.fromhex("".join(r[1] for r in rows).replace(" ", ""))
        assert len(shown) == len(frame), comment  # every byte, in order, once
        # Unencrypted bytes as received; encrypted ones (offsets marked *) shown decrypted.
        clear = [int(r[0]) for r in rows if not r[0].endswith("*")]
        assert all(shown[i] == frame[i] for i in clear if i < 10), comment
        assert "decoded without error" in out
        layers.update(r[2] for r in rows)
    assert {"dll", "ell", "afl", "tpl", "apl"} <= layers


def test_explain_notes_crc_removal_and_encryption():
    code, out, _ = run("explain", "--keys", KEYS, sample("heat meter"))
    assert "frame format B" in out and "CRCs were checked and removed" in out
    assert "(marked *) arrived encrypted (ELL AES-CTR): shown decrypted" in out
    code, out, _ = run("explain", "--keys", KEYS, sample("OMS water"))
    assert "no DLL CRCs" in out and "arrived encrypted (TPL AES-CBC)" in out


def test_explain_compact_after_full_frame():
    code, out, err = run("explain", "--keys", KEYS, sample("MULTICAL 21"), sample("compact"))
    assert code == 0, err
    assert "telegram 2 of 2" in out
    assert out.count("decoded without error") == 2


def test_explain_shows_uncovered_bytes_and_errors():
    h = sample("heat cost allocator")
    code, out, _ = run("explain", h[:30] + "FF" + h[32:])  # DIF 0xFF: not a valid record
    assert code == 0 and "decode_error bad_record" in out
    code, out, _ = run("explain", h + "AB")  # a trailing RSSI byte
    assert "ignored" in out and "AB" in table(out)[-1][1]
    code, out, _ = run("explain", h[:-4])
    assert "decode_error truncated" in out
    code, out, _ = run("explain", "68090968" + "0801780413E8030000" + "00" + "16")
    assert "decode_error crc" in out
    rows = table(out)
    assert rows[0][2] == "?" and "decoding stopped" in rows[0][4]
    code, _, err = run("explain", "XYZ")
    assert code == 2 and "not hex" in err


# -- build --------------------------------------------------------------------------------------


BUILD = ["build", "--manufacturer", "KAM", "--id", "57312468", "--version", "0x1B", "--type", "0x16",
         "--ci", "0x78", "--ell", "8D", "--key", KEY, "--access-number", "7",
         "--record", "02FF20:0x71", "--record", "0413:6408", "--record", "4413:6000",
         "--record", "0DFD11:ABC"]


def test_build_decode_round_trip_all_formats():
    built = {}
    for fmt in ("none", "A", "B", "T1"):
        code, out, err = run(*BUILD, "--format", fmt)
        assert code == 0, err
        assert_no_key(out + err, KEY)
        built[fmt] = out.strip()
        assert built[fmt] == built[fmt].upper()
    chips = bytes.fromhex(built["T1"])
    l_field = phy.decode_3of6(chips, 1)[0]
    from_chips = phy.decode_3of6(chips, phy.size_format_a(l_field))
    assert bytes(from_chips).hex().upper() == built["A"]
    hexes = [built["none"], built["A"], built["B"], bytes(from_chips).hex()]
    code, out, err = run("decode", "--strict", "--key", "57312468:" + KEY, *hexes)
    assert code == 0, out
    results = json_lines(out)
    assert len(results) == 4
    for r in results:
        assert r["id"] == "57312468" and r["manufacturer"] == "KAM" and r["device_type"] == 0x16
        assert r["access_number"] == 7
        assert values(r) == [("manufacturer_specific", None, 0, 0x71), ("volume", None, 0, 6.408),
                             ("volume", None, 1, 6.0), ("customer", None, 0, "ABC")]
    assert_no_key(out + err, KEY)


def test_build_compact_frame_decodes_after_full_frame():
    full = ["build", "--id", "57312468", "--ell", "8D", "--key", KEY, "--record", "0413:6408",
            "--record", "615B:12"]
    _, f, _ = run(*full, "--ci", "78")
    code, c, err = run(*(full[:-4] + ["--record", "0413:6500", "--record", "615B:12", "--compact"]))
    assert code == 0, err
    assert c.strip()[20:22] == "8D"
    code, out, _ = run("decode", "--strict", "--key", "57312468:" + KEY, f.strip(), c.strip())
    assert code == 0, out
    assert values(json_lines(out)[1])[0] == ("volume", None, 0, 6.5)


def test_build_mode_7_and_usage_errors():
    code, out, err = run("build", "--ci", "7A", "--mode", "7", "--key", KEY, "--id", "11223344",
                         "--record", "0C13:4711")
    assert code == 0, err
    code, out, _ = run("decode", "--strict", "--key", "11223344:" + KEY, out.strip())
    assert code == 0 and json_lines(out)[0]["security_mode"] == 7
    for bad in (["--mode", "5"],                              # no key
                ["--mode", "5", "--key", KEY, "--ci", "78"],  # no TPL header
                ["--compact", "--ci", "7A", "--record", "0413:1"],
                ["--ci", "79", "--record", "0413:1"],
                ["--record", "0213:70000"],                   # does not fit in 16 bits
                ["--record", "04:1"],                         # incomplete header
                ["--key", KEY[:30], "--ell", "8D"],
                ["--format", "C"]):
        code, out, err = run("build", *bad)
        assert code == 2, bad
        assert out == ""
        assert_no_key(err, KEY, KEY[:30])
