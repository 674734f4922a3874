"""Authentication and fragmentation layer, CI 0x90 (EN 13757-7:2018 §6, protocol.md §3.4).

    90 AFLL FCL(2) [MCL] [KI(2)] [MCR(4)] [MAC(n)] [ML(2)]

FCL: 14 MF more fragments, 13 MCLP, 12 MLP, 11 MCRP, 10 MACP, 9 KIP, 7..0 fragment id.
MCL: 3..0 authentication type (3/4/5/6/7 = AES-CMAC truncated to 2/4/8/12/16 bytes).
The MAC covers MCL | KI | MCR | ML | every byte from the TPL CI to the end (still encrypted).
"""

from .security import cmac

MAC_LENGTH = {3: 2, 4: 4, 5: 8, 6: 12, 7: 16}


def parse(buf, pos, end):
    """Returns (error or None, afl dict, position of the next CI)."""
    if pos + 4 > end:
        return "truncated", None, end
    hdr_end = pos + 2 + buf[pos + 1]
    if hdr_end > end:
        return "truncated", None, end
    if hdr_end < pos + 4:  # AFLL must at least cover the FCL
        return "bad_afl", None, hdr_end
    fcl = buf[pos + 2] | (buf[pos + 3] << 8)
    afl = {"fcl": fcl}
    # Which fields are present, and their sizes, from the FCL; together they must fit in AFLL.
    mcl = buf[pos + 4] if fcl & 0x2000 and pos + 4 < hdr_end else 0
    mac_len = MAC_LENGTH.get(mcl & 0x0F, -1) if fcl & 0x0400 else 0
    if mac_len < 0:
        return "unsupported_security", afl, hdr_end
    size = (1 if fcl & 0x2000 else 0) + (2 if fcl & 0x0200 else 0) + (4 if fcl & 0x0800 else 0) \
        + mac_len + (2 if fcl & 0x1000 else 0)
    if pos + 4 + size != hdr_end:
        return "bad_afl", afl, hdr_end
    q = pos + 4
    if fcl & 0x2000:
        afl["mcl"] = mcl
        q += 1
    if fcl & 0x0200:
        afl["ki"] = bytes(buf[q : q + 2])
        q += 2
    if fcl & 0x0800:
        afl["mcr"] = bytes(buf[q : q + 4])
        q += 4
    if mac_len:
        afl["mac"] = bytes(buf[q : q + mac_len])
        q += mac_len
    if fcl & 0x1000:
        afl["ml"] = bytes(buf[q : q + 2])
        q += 2
    if fcl & 0x4000 or (fcl & 0xFF) > 1:
        return "fragmented", afl, hdr_end
    return None, afl, hdr_end


def mac_input(afl, tpdu):
    out = bytearray((afl.get("mcl", 0),))
    for field in ("ki", "mcr", "ml"):
        v = afl.get(field)
        if v:
            out += v
    out += tpdu
    return out


def mac_ok(kmac, afl, tpdu):
    mac = afl["mac"]
    return cmac(kmac, mac_input(afl, tpdu))[: len(mac)] == mac
