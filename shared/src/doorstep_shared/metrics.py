"""Prometheus metrics every service exposes on /metrics."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

REQUEST_LATENCY = Histogram(
    "doorstep_http_request_seconds",
    "HTTP request latency",
    ["service", "method", "route", "status"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
RELAY_PUBLISHED = Counter("doorstep_relay_published_total", "Events published to Kafka", ["service"])
RELAY_ERRORS = Counter("doorstep_relay_errors_total", "Relay publish attempts that failed", ["service"])
RELAY_LAG = Gauge("doorstep_relay_lag_events", "Events in the log not yet published", ["service"])
PROJECTION_APPLIED = Counter(
    "doorstep_projection_applied_total", "Events applied to read models", ["service", "projection"]
)
PROJECTION_LAG = Gauge(
    "doorstep_projection_lag_messages",
    "Messages on assigned partitions not yet applied",
    ["service", "projection"],
)
PROJECTION_DEAD_LETTERS = Counter(
    "doorstep_projection_dead_letters_total",
    "Events sent to a dead-letter topic",
    ["service", "projection"],
)
PROJECTION_GAPS = Counter(
    "doorstep_projection_gaps_total",
    "Events held back because an earlier event of their stream has not arrived (the relay republishes it)",
    ["service", "projection"],
)
PROJECTION_REWINDS = Counter(
    "doorstep_projection_rewinds_total",
    "Partitions re-read from the beginning because the broker holds less than was applied",
    ["service", "projection"],
)
RELAY_REPUBLISHES = Counter(
    "doorstep_relay_republishes_total",
    "Times the relay found the broker missing what it had published and republished from the log",
    ["service"],
)
