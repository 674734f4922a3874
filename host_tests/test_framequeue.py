"""The radio receive queue (lib/radio FrameQueue): order, bounds, the byte ring's wrap."""

from radio import FORMAT_A, FORMAT_B, MAX_FRAME, MODE_C1, MODE_T1, FrameQueue


def frame(i, n):
    return bytes((i + k) & 0xFF for k in range(n))


def test_frames_come_out_in_order_with_their_attributes():
    q = FrameQueue(4)
    assert q.put(frame(1, 30), 30, MODE_T1, FORMAT_A, -70, 100)
    assert q.put(memoryview(frame(2, 50)), 40, MODE_C1, FORMAT_B, -55, 200)
    assert len(q) == 2
    assert q.get() == (frame(1, 30), MODE_T1, FORMAT_A, -70, 100)
    assert q.get() == (frame(2, 40), MODE_C1, FORMAT_B, -55, 200)
    assert q.get() is None and q.counters["frames"] == 2


def test_slots_bound_and_overflow_counted():
    q = FrameQueue(3)
    for i in range(3):
        assert q.put(frame(i, 20), 20, MODE_T1, FORMAT_A, -60, i)
    assert not q.room()
    assert not q.put(frame(9, 20), 20, MODE_T1, FORMAT_A, -60, 9)
    assert q.counters["overflow"] == 1 and q.counters["queue_full"] == 1
    assert q.high_water == 3
    assert [q.get()[4] for _ in range(3)] == [0, 1, 2]


def test_bytes_bound_and_wrap_keep_every_frame_whole():
    q = FrameQueue(64, ring_bytes=600)
    sent = []
    got = []
    n = 0
    for i in range(300):
        size = 12 + (i * 37) % 200
        if q.put(frame(i, size), size, MODE_C1, FORMAT_A, -60, i):
            sent.append((i, size))
        else:
            n += 1
        if i % 3 == 2:  # the consumer is slower than the radio
            item = q.get()
            got.append(item)
    while len(q):
        got.append(q.get())
    assert n == q.counters["queue_full"] and n > 0
    assert [(g[4], len(g[0])) for g in got if g] == sent
    for g in got:
        if g:
            assert g[0] == frame(g[4], len(g[0]))


def test_the_largest_frame_always_fits_an_empty_queue():
    q = FrameQueue(1)
    assert q.room()
    assert q.put(frame(0, MAX_FRAME), MAX_FRAME, MODE_T1, FORMAT_A, -60, 0)
    assert not q.put(frame(0, 1), 1, MODE_T1, FORMAT_A, -60, 0)
    assert len(q.get()[0]) == MAX_FRAME and q.room()
    assert not q.put(b"", 0, MODE_T1, FORMAT_A, -60, 0)
    assert q.counters["garbage"] == 1
