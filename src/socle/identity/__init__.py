"""Organisations, teams, projects, users, API keys and role-based access."""
