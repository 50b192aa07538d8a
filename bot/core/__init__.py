"""What every process of the product imports (the launcher, the Rasa server,
the action server, the card backend, the web process); nothing here imports
Rasa or sanic.

  settings        every setting, one table, read from the environment
  paths           where the project's files are
  local_secrets   secrets one machine keeps for itself in var/secrets/
  service_auth    the shared secrets our processes present to each other
  process_logging the log format of our own processes
  knowledge_base  the FAQ topics of data/faq/responses.yml, per language
"""
