"""Techem MK Radio 3 water meters (wmbusmeters: mkradio3), CI 0xA2: volumes and billing
dates (techem.py)."""

from . import Driver, register
from .techem import decode

register(Driver("""
driver mkradio3
detect TCH 74 62
detect TCH 74 72
""", manufacturer_ci=decode))
