"""What ties our code into Rasa: `bootstrap`, every patch of Rasa, rasa_sdk
and logging the project installs. (The plug-ins Rasa loads by dotted path
from endpoints.yml and credentials.yml are still bot.tracker_store,
bot.lock_store and bot.channels; each calls bootstrap.install().)"""
