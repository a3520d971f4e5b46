"""HTTP layer: OpenAI-compatible /v1, admin /admin/v1, health probes."""
