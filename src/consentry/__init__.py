"""Consentry: a consent and preference hub. Retailers know their customers by asking them."""

__version__ = "0.1.0"
