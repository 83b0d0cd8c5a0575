"""Registration domain: pure rules about residents, employers and their identifiers."""
