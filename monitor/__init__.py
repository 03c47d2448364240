"""practice-monitor: the social-media guard for small counselling and therapy practices."""

__version__ = "0.1.0"
