"""Read side, one module per sub-domain: queries over the read models (never through
the aggregates), each beside the response model that describes what it returns."""
