"""FinOps and GreenOps: prices, budgets, rate limits, carbon; in-process and Redis backends."""
