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
    fcl = buf[pos + 2] | (buf[pos + 3] << 8)
    q = pos + 4
    afl = {"fcl": fcl}
    mcl = 0
    if fcl & 0x2000:
        mcl = buf[q]
        afl["mcl"] = mcl
        q += 1
    if fcl & 0x0200:
        afl["ki"] = bytes(buf[q : q + 2])
        q += 2
    if fcl & 0x0800:
        afl["mcr"] = bytes(buf[q : q + 4])
        q += 4
    if fcl & 0x0400:
        n = MAC_LENGTH.get(mcl & 0x0F)
        if n is None:
            return "unsupported_security", afl, hdr_end
        afl["mac"] = bytes(buf[q : q + n])
        q += n
    if fcl & 0x1000:
        afl["ml"] = bytes(buf[q : q + 2])
        q += 2
    if q != hdr_end:
        return "bad_afl", afl, hdr_end
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
