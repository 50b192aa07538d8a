"""Privacy rules shared by the Rasa server and the action server: the slot
names (which ones hold personal data, which ones are secrets) and the walker
that masks every string in a nested value."""
