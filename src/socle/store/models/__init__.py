"""All tables, one module per capability; importing this package registers them on Base."""
