"""Read-side queries over the read models (never through the aggregates), by resource.

Area codes nest by prefix, so "in this area" is a LIKE 'code%' on a community
code. Minutes are reported as minutes; hours are derived for display only.
"""
