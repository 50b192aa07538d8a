"""The action server's package (loaded by `python -m rasa_sdk --actions actions`).

Importing it installs the action server's patches first (log redaction: no
log line of the action server carries a clear ID number or phone number).
"""
from bot.rasa_ext import bootstrap

bootstrap.install_action_server()
