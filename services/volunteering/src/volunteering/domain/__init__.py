"""Volunteering's domain: teams, activities (shifts) and each volunteer's ledger."""
