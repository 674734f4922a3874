"""Set by boot.py: True when the gateway app must not start (safe-mode pin held at boot)."""
ACTIVE = False
