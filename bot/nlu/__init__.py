"""Custom Rasa graph components (registered in config.yml by their dotted path)."""
