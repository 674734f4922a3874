"""Techem MK Radio 4 water meters (wmbusmeters: mkradio4), CI 0xA2: volumes (techem.py)."""

from . import Driver, register
from .techem import decode

register(Driver("""
driver mkradio4
detect TCH 95 62
detect TCH 70 62
detect TCH 95 72
detect TCH 70 72
""", manufacturer_ci=decode))
