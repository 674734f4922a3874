"""What the Kamstrup drivers share: status texts from info-code bits and the TPL status.

The drivers (kamwater.py, kamheat.py, omnipower.py, kampress.py) follow wmbusmeters' drivers of
the same names (protocol.md §5) in detection, compact formats and output names, so that a
gateway replacing wmbusmeters changes nothing downstream. One file per driver: a gateway loads
only the drivers of the meters it hears.
"""

# -- status texts -------------------------------------------------------------------------------

_bit_tables = {}


def _bits(table):
    """'1 DRY 2 REVERSE ...' -> ((1, 'DRY'), (2, 'REVERSE'), ...), parsed once."""
    parsed = _bit_tables.get(table)
    if parsed is None:
        words = table.split()
        parsed = _bit_tables[table] = tuple(
            (int(words[i], 16), words[i + 1]) for i in range(0, len(words), 2))
    return parsed


def bits_to_text(value, table, mask=0xFFFFFFFF):
    """Names of the set bits, in bit order; set bits without a name as one ERROR_FLAGS_<hex>."""
    out = []
    rest = value & mask
    for bit, name in _bits(table):
        if value & bit:
            out.append(name)
            rest &= ~bit
    if rest:
        out.append("ERROR_FLAGS_%X" % rest)
    return out


_TPL_STATUS = "1 BUSY 2 ERROR 4 POWER_LOW 8 PERMANENT_ERROR 10 TEMPORARY_ERROR"


def set_status(result, texts):
    """`status` as wmbusmeters gives it: the meter's flags, then those of the TPL status byte."""
    sts = result.get("tpl_status")
    if sts:
        if sts & 3 == 3:
            texts = texts + ["ALARM"]
            sts &= ~3
        texts = texts + bits_to_text(sts, _TPL_STATUS, 0x1F)
    result["status"] = " ".join(texts) if texts else "OK"
