"""The action server's package (loaded by `python -m rasa_sdk --actions actions`).

Importing it installs the log redaction first, so no log line of the action
server carries a clear ID number or phone number.
"""
from bot import log_redaction

log_redaction.install()
