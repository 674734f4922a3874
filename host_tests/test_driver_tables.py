# cpython-only: imports every driver module at once, more than a device ever loads
"""The detection table of drivers/__init__.py agrees with the drivers' own `detect` lines."""

from wmbus import drivers


def test_detection_table_agrees_with_the_driver_texts():
    for module, kinds in drivers.modules():
        __import__("wmbus.drivers." + module)
        for kind in kinds:
            m, v, t = kind.split()
            key = (drivers.manufacturer_code(m), -1 if v == "*" else int(v, 16),
                   -1 if t == "*" else int(t, 16))
            d = drivers.find(*key)
            assert d is not None and d.name == module, kind
            assert key in d.detect
            assert drivers.module_of(kind) == module
    # And the other way round: every kind a driver detects is listed, so that it gets loaded.
    listed = set(k for _, kinds in drivers.modules() for k in kinds)
    for key, d in drivers._REGISTRY.items():
        kind = ("%s * *" % drivers.manufacturer(key[0]) if key[1] < 0 else
                "%s %02x %02x" % (drivers.manufacturer(key[0]), key[1], key[2]))
        assert kind in listed, (d.name, kind)
