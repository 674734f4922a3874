"""Apator 17.2 water meters (wmbusmeters: apator172), CI 0xA0: a counter in thirds of a m3
(apator.py reads it)."""

from . import Driver, register
from .apator import apator172

register(Driver("""
driver apator172
detect APT 04 11
""", manufacturer_ci=apator172))
