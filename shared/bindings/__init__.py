"""WABA bindings across instances: a cache in two levels, single flight, and the account's quota at CAMS."""
