"""Apator NA-1 water meters (wmbusmeters: apatorna1), CI 0xA0/0xA1, AES-encrypted with the
meter's key, which the manufacturer-CI hook does not pass yet (apator.py reads them)."""

from . import Driver, register
from .apator import apatorna1

register(Driver("""
driver apatorna1
detect APA 14 07
""", manufacturer_ci=apatorna1, keyed=True))
