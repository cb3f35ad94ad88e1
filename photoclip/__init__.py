"""PhotoClip: search your own photo folders by meaning, offline."""

__version__ = "0.1.0"
