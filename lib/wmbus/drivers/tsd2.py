"""Techem TSD2 smoke detectors (wmbusmeters: tsd2), CI 0xA0 (techem.py)."""

from . import Driver, register
from .techem import decode

register(Driver("""
driver tsd2
detect TCH 76 f0
""", manufacturer_ci=decode))
