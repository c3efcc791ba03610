"""Stack compositions: `platform.py` builds the platform from a PlatformConfig."""
