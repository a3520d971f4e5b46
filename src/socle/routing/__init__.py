"""Hybrid routing: model catalog, classification, router, retries, circuit breaker, canary."""
