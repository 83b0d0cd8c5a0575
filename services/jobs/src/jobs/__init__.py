"""Doorstep jobs service."""
