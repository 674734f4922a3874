"""Techem Vario 4 type 4.5.1 heat meters (wmbusmeters: vario451), CI 0xA2 (techem.py)."""

from . import Driver, register
from .techem import decode

register(Driver("""
driver vario451
detect TCH 27 04
detect TCH 27 c3
""", manufacturer_ci=decode))
