"""Doorstep grid_reports service."""
