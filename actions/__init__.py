"""The action server's package (loaded by `python -m rasa_sdk --actions actions`)."""
