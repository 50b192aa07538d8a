"""The social security card helpdesk: everything of ours that is not Rasa's own files.

  core/        what every process imports: settings, paths, local secrets, the
               secrets our processes present to each other, logging, the knowledge base
  privacy/     personal data: ID numbers, phones and names (pii), sealed slot values,
               slot names, log redaction
  rasa_ext/    what ties our code into Rasa: every patch (bootstrap), the hardened
               Rasa server and action server the launcher starts
  tracker_store, lock_store, session_cache, session_tracker
               the plug-ins endpoints.yml names: the redacting SQL tracker store (with
               its kept sessions and their trackers) and the shared lock store
  turn_queue   turns served in arrival order, a bounded wait, 503 + Retry-After past it
               (installed around Agent.handle_message by the Rasa server's hardening)
  channels/    input channels credentials.yml names: REST (hardened) and WeChat
  nlu/         components of the NLU pipeline (config.yml names them; the trained model too)
  text, keywords
               language detection and normalisation; the BM25 label ranker (the trained
               model's files name both by module path: they stay where they are)
  http/, db    what both of our sanic services use: request class, JSON, errors,
               database work in threads, the app factory; engine and sessions
  backend/     the card-status service (python -m bot.backend)
  web/         the chat widget and the staff pages (python -m bot.web)
  ops/         `make run`, `make shell`, `make cluster`: the launcher, its processes, replicas
  __main__     `python -m bot run|shell|settings`
"""
