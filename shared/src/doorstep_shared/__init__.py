"""Doorstep platform core shared by every service."""
