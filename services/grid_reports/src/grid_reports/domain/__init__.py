"""Grid-reports domain: cases, visits and disputes, free of any framework."""
