"""The OpenAI-compatible API (/v1)."""
