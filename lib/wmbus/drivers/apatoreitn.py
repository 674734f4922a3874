"""Apator E-ITN heat cost allocators (wmbusmeters: apatoreitn), CI 0xA0 or 0xB6 (apator.py
reads them)."""

from . import Driver, register
from .apator import apatoreitn

register(Driver("""
driver apatoreitn
detect APA 04 08
detect APT 04 08
""", manufacturer_ci=apatoreitn))
