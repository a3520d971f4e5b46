"""Model providers behind one streaming-first interface: openai_compat, anthropic, simulator."""
