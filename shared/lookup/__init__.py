"""The HTTP function: which WABA is bound to a CAMS customer space."""
