"""CAMS's answers across instances: a cache in two levels, single flight, and each operation's quota at CAMS."""
