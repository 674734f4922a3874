"""Techem Compact V heat meters (wmbusmeters: compact5), CI 0xA1/0xA2 (techem.py)."""

from . import Driver, register
from .techem import decode

register(Driver("""
driver compact5
detect TCH 45 04
detect TCH 45 c3
detect TCH 22 43
detect TCH 45 43
detect TCH 39 43
""", manufacturer_ci=decode))
