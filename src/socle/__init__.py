"""Socle: the sovereign, hybrid AI gateway and control plane."""

__version__ = "0.1.0"
