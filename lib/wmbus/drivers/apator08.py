"""Apator 08 water meters (wmbusmeters: apator08), CI 0xA0: a counter in thirds of a litre
(apator.py reads it)."""

from . import Driver, register
from .apator import apator08

register(Driver("""
driver apator08
detect APT 03 03
detect APT 0f 0f
""", manufacturer_ci=apator08))
