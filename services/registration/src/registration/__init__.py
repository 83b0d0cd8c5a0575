"""Doorstep registration service."""
