"""Techem FHKV data III heat cost allocators (wmbusmeters: fhkvdataiii), CI 0xA0/0xA2
(techem.py)."""

from . import Driver, register
from .techem import decode

register(Driver("""
driver fhkvdataiii
detect TCH 69 80
detect TCH 94 80
""", manufacturer_ci=decode))
