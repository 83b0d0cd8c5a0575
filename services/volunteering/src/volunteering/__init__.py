"""Doorstep volunteering service."""
