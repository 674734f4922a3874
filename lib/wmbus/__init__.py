"""Wireless M-Bus (EN 13757-3/-4/-7, OMS) decoder that runs on CPython and MicroPython.

    from wmbus import Decoder
    Decoder({"12345678": key_bytes}).decode(frame) -> dict
"""

from .decoder import Decoder

__all__ = ["Decoder"]
