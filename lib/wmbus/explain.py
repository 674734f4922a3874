"""Annotations of a telegram's bytes for `wmbus explain`.

Only loaded when a trace is asked for: the gateway never imports it.
"""

from . import dll, phy, records


def status_text(sts):
    names = ("ok", "busy", "application error", "abnormal")
    flags = [names[sts & 3]]
    if sts & 4:
        flags.append("power low")
    if sts & 8:
        flags.append("permanent error")
    if sts & 16:
        flags.append("temporary error")
    if sts & 0xE0:
        flags.append("manufacturer bits 0x%02X" % (sts & 0xE0))
    return "status 0x%02X: %s" % (sts, ", ".join(flags))


def trace_dll(f, fmt, trace):
    trace.append((0, 1, "dll", "L", "%d bytes follow (%s)" % (f[0], {
        phy.FORMAT_NONE: "CRCs already removed", phy.FORMAT_A: "frame format A, CRCs checked and removed",
        phy.FORMAT_B: "frame format B, CRCs checked and removed"}[fmt])))
    trace.append((1, 2, "dll", "C", "0x%02X %s" % (f[1], dll.C_FIELD.get(f[1], ""))))
    m = f[2] | (f[3] << 8)
    trace.append((2, 4, "dll", "M", "manufacturer %s (0x%04X)" % (dll.manufacturer(m), m)))
    trace.append((4, 8, "dll", "ID", "meter id %s" % dll.meter_id(f, 4)))
    trace.append((8, 9, "dll", "version", "%d" % f[8]))
    trace.append((9, 10, "dll", "type", "0x%02X %s" % (f[9], dll.media_name(f[9]))))


def trace_records(f, p, end, cache, trace):
    """Re-walk the records for `explain` (slow path, never used by the gateway)."""
    while p < end:
        dif = f[p]
        if dif == 0x2F:
            q = p
            while q < end and f[q] == 0x2F:
                q += 1
            trace.append((p, q, "apl", "filler", "idle filler (DIF 2F) x %d" % (q - p)))
            p = q
            continue
        if dif == 0x0F or dif == 0x1F:
            trace.append((p, end, "apl", "manufacturer data", "DIF 0x%02X: manufacturer specific data%s" % (
                dif, ", more records follow in the next telegram" if dif == 0x1F else "")))
            return
        if dif & 0x0F == 0x0F:
            trace.append((p, end, "apl", "record", "DIF 0x%02X is reserved: cannot decode" % dif))
            return
        try:
            h = records.header_end(f, p, end)
            tpl_ = cache.get(bytes(f[p:h])) or records.make_template(bytes(f[p:h]))
            value, q = records.read_value(f, h, end, tpl_)
        except records.RecordError as e:
            trace.append((p, end, "apl", "record", "cannot decode: %s" % e.args[0]))
            return
        trace.append((p, h, "apl", "DIB/VIB", _describe(tpl_[0])))
        trace.append((h, q, "apl", "data", "value %r" % (value,)))
        p = q


def _describe(rec):
    what = rec["quantity"]
    if rec["unit"]:
        what += " [" + rec["unit"] + "]"
    if "qualifier" in rec:
        what += " " + rec["qualifier"]
    return "%s, storage %d, tariff %d, subunit %d, %s" % (
        what, rec["storage"], rec["tariff"], rec["subunit"], rec["function"])


def trace_compact(f, p, end, templates, trace):
    """The data of a compact frame, record by record, with the headers of its learnt format."""
    for tpl_ in templates:
        try:
            value, q = records.read_value(f, p, end, tpl_)
        except records.RecordError as e:
            trace.append((p, end, "apl", "data", "cannot decode: %s" % e.args[0]))
            return
        trace.append((p, q, "apl", "data", "%s: value %r (header %s from the full frame)" % (
            _describe(tpl_[0]), value, tpl_[0]["dif_vif"])))
        p = q
