"""The air between the meters and the gateway: who transmits when, how strong, and what survives.

    air = Air.building(500, seed=7)       # the `make bench` scenario (or Air([Meter(...)], seed))
    for tx in air.transmissions(0, 10000000):     # consecutive windows, in simulated us
        tx.meter, tx.count, tx.frame, tx.air, tx.rssi_dbm, tx.bit_errors, tx.lost, tx.captured
    air.keys()                            # {meter id: AES key bytes}, for wmbus.Decoder
    air.stats                             # sent, perfect, collision, noise, captured, ...
    air.lost_on_air                       # collision + noise: what no receiver gets

Deterministic for a seed, on CPython and on the MicroPython unix port alike: the generator is
xorshift32 here, not `random` (the two interpreters' generators differ). It is a MODEL; every
figure below is a stated assumption, not a measurement.

Meters (`KINDS`): Kamstrup MULTICAL 21 water (C1 frame B, ELL AES-CTR; compact frames, a full
frame every 8th), MULTICAL 403 heat and OMNIPOWER electricity (C1 frame A in this model, same
full/compact cycle), and generic OMS meters in T1 with TPL security mode 5 (water every 15 min,
heat cost allocators every 2 min). Intervals from radio.md §6.2: Kamstrup C1 every 16 s (the
OMNIPOWER interval is not documented: 16 s, the worst case). Each interval is the nominal one
plus a uniform jitter (±0.5 s for Kamstrup, ±10 % for OMS: assumed), so the meters' phases drift
and the arrivals of 500 meters are Poisson-like (radio.md §6.3: 31/s on average, bursts to ~50/s).

Signal: each meter has a mean RSSI (its distance); each transmission adds Gaussian fading with
FADING_DB standard deviation. Noise: the bit error rate of non-coherent 2-FSK in white noise,
BER = 0.5 * exp(-SNR / 2), with the noise floor placed so that BER = 1e-3 at SENSITIVITY_DBM
(-105 dBm, the order of the iM871A's and CC1101's figures at 100 kchip/s). That puts the floor
10.9 dB below the sensitivity: BER ~2e-9 at -100 dBm, 3e-5 at -103, 1e-3 at -105, 2e-2 at
-108 dBm: a 40-byte frame gets through almost always above -103 dBm, three times in four at
-105 and almost never below -108. Errors hit each bit (chip, in T1) independently.

Collisions: two transmissions that overlap in time (preamble included) destroy each other,
unless one is at least CAPTURE_DB stronger (10 dB: the top of the 6-10 dB usually quoted for
FSK capture, and the CC1101 simulator's figure): then the stronger survives and only the
weaker is lost. Pairwise: with three
overlapping frames each pair is judged on its own. The overlap corrupts the loser's bits under
it (each with probability 1/2, at least one; an overlap of preamble/sync only corrupts the first
byte after sync, as a receiver would not have synchronised): tx.air carries the damage
through Transmission.flip, so a simulator downstream fails the CRC exactly where a chip would.
A frame captured although it started second (`tx.captured_late`) survives on air, but a
single-channel receiver already synchronised on the weaker frame misses it: the bench reports
those separately.

A perfect receiver gets every transmission with tx.bit_errors == 0 (tx.lost is None); everything
else is lost on air (tx.lost = "collision" or "noise"), which no gateway can recover.
"""

import math

from wmbus import build

from .onair import Transmission

SENSITIVITY_DBM = -105.0
BER_AT_SENSITIVITY = 1e-3
# SNR (linear) at the sensitivity for 0.5 * exp(-snr / 2) = BER_AT_SENSITIVITY.
_SNR_AT_SENS = 2.0 * math.log(0.5 / BER_AT_SENSITIVITY)
NOISE_FLOOR_DBM = SENSITIVITY_DBM - 10.0 * math.log(_SNR_AT_SENS) / math.log(10.0)
CAPTURE_DB = 10.0
FADING_DB = 2.0
US_PER_BIT = 10  # 100 kchip/s in C1 and T1 (radio.md §6.1)
# Longest transmission: T1 with L = 255 (290 bytes of frame A, 435 chip bytes) at 80 us/byte.
MAX_AIR_US = 36000

S = 1000000  # us per second

# kind: (manufacturer, version, device type, link mode, frame format, CI of a full frame,
#        CI of a compact frame or 0, full frame every n, interval s, jitter us, TPL mode)
KINDS = {
    "mc21": ("KAM", 0x1B, 0x16, "C1", "B", 0x78, 0x79, 8, 16, 500000, 0),
    "mc403": ("KAM", 0x35, 0x0C, "C1", "A", 0x78, 0x79, 8, 16, 500000, 0),
    "omnipower": ("KAM", 0x30, 0x02, "C1", "A", 0x78, 0x79, 8, 16, 500000, 0),
    "oms_water": ("ZRI", 0x01, 0x07, "T1", "A", 0x7A, 0, 1, 900, 0, 5),
    "oms_hca": ("ZRI", 0x01, 0x08, "T1", "A", 0x7A, 0, 1, 120, 0, 5),
}
_OMS_JITTER = 10  # percent of the interval


class Rng:
    """xorshift32 (Marsaglia 2003): the same sequence on every interpreter."""

    def __init__(self, seed):
        self.x = (seed * 2654435761 + 0x9E3779B9) & 0xFFFFFFFF or 1

    def next32(self):
        x = self.x
        x ^= (x << 13) & 0xFFFFFFFF
        x ^= x >> 17
        x ^= (x << 5) & 0xFFFFFFFF
        self.x = x
        return x

    def random(self):
        """Uniform in [0, 1)."""
        return self.next32() / 4294967296.0

    def below(self, n):
        return self.next32() % n

    def uniform(self, a, b):
        return a + (b - a) * self.random()

    def gauss(self, sigma):
        u = 1.0 - self.random()  # (0, 1]: log is finite
        return sigma * math.sqrt(-2.0 * math.log(u)) * math.cos(6.283185307179586 * self.random())

    def key(self):
        return bytes(self.below(256) for _ in range(16))


def ber(rssi_dbm):
    """Bit error probability at this signal level (the model of the module docstring)."""
    snr = 10.0 ** ((rssi_dbm - NOISE_FLOOR_DBM) / 10.0)
    return 0.5 * math.exp(-0.5 * snr)


class Meter(Rng):
    """One meter: what it sends (`kind`, see KINDS), how strong it arrives and when.

    rssi_dbm is the mean level at the gateway; phase_us the time of its first transmission
    (default: a random point in its first interval). The meter is its own generator (jitter,
    fading, noise): 500 of them fit the bench's heap, and its stream does not depend on the
    others'. Few attributes, the kind's constants shared: about 0.4 KB per meter."""

    def __init__(self, meter_id, kind, rssi_dbm, key, phase_us=None, seed=None,
                 interval_s=None):
        Rng.__init__(self, int(meter_id, 16) if seed is None else seed)
        self.spec = spec = KINDS[kind]
        self.id = meter_id
        self.kind = kind
        self.key = key
        self.rssi_dbm = rssi_dbm
        self.interval_us = int((spec[8] if interval_s is None else interval_s) * S)
        self.jitter_us = spec[9] or self.interval_us * _OMS_JITTER // 100
        self.next_us = self.below(self.interval_us) if phase_us is None else phase_us
        self.count = 0  # transmissions so far: access number, full/compact cycle, readings
        self.base = self.below(100000)

    @property
    def manufacturer(self):
        return self.spec[0]

    @property
    def mode(self):
        return self.spec[3]

    @property
    def frame_format(self):
        return self.spec[4]

    def items(self, n=None):
        """The records of transmission n (default: the next one) as (DIB+VIB, raw value), in
        the order of the meter's builtin format."""
        if n is None:
            n = self.count
        k = self.kind
        if k == "mc21":  # info, volume l, max flow l/h, min flow temp, max ext. temp
            return (("02FF20", 0), ("0413", self.base + 3 * n), ("92013B", 300 + n % 50),
                    ("A1015B", 12), ("8101E7FF0F", 21))
        if k == "mc403":  # energy kWh, target energy, volume 0.01 m3, target date, power, info
            return (("0306", self.base + n // 4), ("4306", self.base), ("0314", 2 * self.base + n),
                    ("426C", 0x2BBE), ("022D", 12 + n % 7), ("01FF21", 0))
        if k == "omnipower":  # energy 0.01 kWh, production, power W, production power
            return (("0404", self.base + n), ("04843C", 0), ("042B", 300 + n % 200),
                    ("04AB3C", 0))
        if k == "oms_water":  # volume l, volume at the set date, set date
            return (("0413", self.base + 40 * n), ("4413", self.base), ("426C", 0x2BBE))
        return (("0B6E", self.base % 1000 + n), ("4B6E", self.base % 1000), ("426C", 0x2BBE))

    def is_full(self, n):
        return not self.spec[6] or n % self.spec[7] == 0

    def telegram(self):
        """The next frame this meter sends (L first, no CRCs), encrypted with its key."""
        items = self.items()
        n = self.count
        manufacturer, version, device_type, _, _, ci_full, ci_compact, _, _, _, tpl_mode = \
            self.spec
        if tpl_mode:
            return build.telegram(build.records(*items), manufacturer=manufacturer,
                                  meter_id=self.id, version=version, device_type=device_type,
                                  ci=ci_full, access_number=n & 0xFF, mode=tpl_mode,
                                  key=self.key)
        if self.is_full(n):
            apl, ci = build.records(*items), ci_full
        else:
            apl, ci = build.compact(*items), ci_compact
        return build.telegram(apl, manufacturer=manufacturer, meter_id=self.id,
                              version=version, device_type=device_type, ci=ci,
                              access_number=n & 0xFF, ell=0x8D, key=self.key,
                              ell_session=(self.base << 8 | n) & 0x1FFFFFFF)

    def transmit(self):
        """The next Transmission (ground truth, no noise yet); the meter moves on one interval."""
        spec = self.spec
        tx = Transmission(self.next_us, self.telegram(), spec[3], spec[4], self.rssi_dbm, self)
        tx.count = self.count  # which of the meter's transmissions: meter.items(tx.count)
        self.count += 1
        j = self.jitter_us
        self.next_us += self.interval_us + (self.below(2 * j + 1) - j if j else 0)
        return tx


class Air:
    def __init__(self, meters, seed=1, capture_db=CAPTURE_DB, fading_db=FADING_DB,
                 sensitivity_dbm=SENSITIVITY_DBM):
        self.meters = list(meters)
        self.seed = seed
        self.capture_db = capture_db
        self.fading_db = fading_db
        self._noise_floor = NOISE_FLOOR_DBM + (sensitivity_dbm - SENSITIVITY_DBM)
        self._pending = []  # generated, overlaps resolved only against each other so far
        self._recent = []  # returned, still able to overlap what comes next
        self._until = 0  # every transmission starting before this is generated
        self.stats = {"sent": 0, "perfect": 0, "collision": 0, "noise": 0, "captured": 0,
                      "captured_late": 0}

    @classmethod
    def building(cls, n_meters=500, seed=1, t1_meters=20, interval_s=None):
        """The bench scenario: n_meters Kamstrup C1 meters every 16 s (70 % MULTICAL 21,
        15 % MULTICAL 403, 15 % OMNIPOWER) = 31.25 telegrams/s, plus t1_meters OMS T1 meters
        (half every 2 min, half every 15 min). Mean levels: 95 % uniform over -100..-50 dBm,
        the far 5 % over -108..-100 dBm (assumed; a gateway placed for the building)."""
        rng = Rng(seed ^ 0x5EED)
        meters = []
        for i in range(n_meters + t1_meters):
            if i < n_meters:
                r = i % 20  # 14 : 3 : 3, interleaved so that a few meters have every kind
                kind = "mc403" if r in (3, 10, 17) else ("omnipower" if r in (6, 13, 19)
                                                         else "mc21")
            else:
                kind = "oms_hca" if (i - n_meters) % 2 == 0 else "oms_water"
            far = rng.below(100) < 5
            level = rng.uniform(-108.0, -100.0) if far else rng.uniform(-100.0, -50.0)
            meter_id = "%08d" % (61000000 + i * 1931)
            meters.append(Meter(meter_id, kind, level, rng.key(), seed=seed * 7919 + i,
                                interval_s=interval_s))
        return cls(meters, seed)

    def keys(self):
        return {m.id: m.key for m in self.meters}

    @property
    def lost_on_air(self):
        """Transmissions returned so far that no receiver can get (collisions and noise)."""
        return self.stats["collision"] + self.stats["noise"]

    def ber(self, rssi_dbm):
        snr = 10.0 ** ((rssi_dbm - self._noise_floor) / 10.0)
        return 0.5 * math.exp(-0.5 * snr)

    def transmissions(self, start_us, end_us):
        """The transmissions starting in [start_us, end_us), in time order, with noise and every
        collision applied (also with transmissions of the next window: they are generated ahead).
        Windows must follow each other; start_us only drops a gap the caller skipped."""
        horizon = end_us + MAX_AIR_US
        new = []
        for m in self.meters:
            while m.next_us < horizon:
                tx = m.transmit()
                # The meter's own generator: the stream does not depend on the windows asked.
                self._noise(tx, m)
                if tx.start_us >= self._until:
                    new.append(tx)
        self._until = max(self._until, horizon)
        new.sort(key=_start)
        # Collisions: each new transmission against everything still on air before it.
        window = [t for t in self._recent + self._pending]
        for tx in new:
            window = [t for t in window if t.end_us > tx.start_us]
            for other in window:
                self._collide(other, tx)
            window.append(tx)
        pending = self._pending + new
        out = []
        keep = []
        for tx in pending:
            if tx.start_us < end_us:
                if tx.start_us >= start_us:
                    out.append(tx)
                    self._account(tx)
            else:
                keep.append(tx)
        self._pending = keep
        self._recent = [t for t in self._recent + out if t.end_us > end_us]
        return out

    def _account(self, tx):
        st = self.stats
        st["sent"] += 1
        if tx.bit_errors == 0:
            st["perfect"] += 1
            if tx.captured:
                st["captured"] += 1
                if tx.captured_late:
                    st["captured_late"] += 1
        else:
            st[tx.lost] += 1

    def _noise(self, tx, rng):
        tx.lost = None
        tx.captured = False
        tx.captured_late = False
        if self.fading_db:
            tx.rssi_dbm = int(round(tx.rssi_dbm + rng.gauss(self.fading_db)))
        p = self.ber(tx.rssi_dbm)
        bits = 8 * len(tx.air)
        if p < 1e-12:
            return
        # Geometric skips between errors: one draw per error, not one per bit.
        log_q = math.log(1.0 - p)
        i = -1
        while True:
            i += 1 + int(math.log(1.0 - rng.random()) / log_q)
            if i >= bits:
                break
            tx.flip(i)
        if tx.bit_errors:
            tx.lost = "noise"

    def _collide(self, a, b):
        """a started first; both overlap. The loser(s) get their overlapped bits corrupted."""
        if a.end_us <= b.start_us:
            return
        d = a.rssi_dbm - b.rssi_dbm
        lo = b.start_us
        hi = min(a.end_us, b.end_us)
        if d >= self.capture_db:
            self._corrupt(b, lo, hi)
            a.captured = True
        elif -d >= self.capture_db:
            self._corrupt(a, lo, hi)
            b.captured = True
            b.captured_late = True
        else:
            self._corrupt(a, lo, hi)
            self._corrupt(b, lo, hi)

    def _corrupt(self, tx, lo_us, hi_us):
        bits = 8 * len(tx.air)
        first = (lo_us - tx.sync_us) // US_PER_BIT
        last = (hi_us - tx.sync_us + US_PER_BIT - 1) // US_PER_BIT
        if first < 0:
            first = 0
        if last > bits:
            last = bits
        if last <= first:  # preamble or sync only: the receiver never synchronises
            first, last = 0, 8
        before = tx.bit_errors
        # A generator of this pair alone (window-independent, like the noise).
        rnd = Rng(self.seed ^ (lo_us * 2654435761 + tx.start_us) & 0x7FFFFFFF).next32
        i = first
        while i < last:  # the interferer's bits are as good as random: half of them differ
            r = rnd()
            j = 0
            while j < 32 and i < last:
                if r & 1:
                    tx.flip(i)
                r >>= 1
                i += 1
                j += 1
        if tx.bit_errors == before:
            tx.flip(first)
        if tx.lost is None or tx.lost == "noise":
            tx.lost = "collision"


def _start(tx):
    return tx.start_us


def rate_profile(txs, start_us, end_us, bin_us=S):
    """Transmissions per bin (default per second) over [start_us, end_us): for the bench's
    burst figures."""
    n = (end_us - start_us + bin_us - 1) // bin_us
    counts = [0] * n
    for tx in txs:
        k = (tx.start_us - start_us) // bin_us
        if 0 <= k < n:
            counts[k] += 1
    return counts
