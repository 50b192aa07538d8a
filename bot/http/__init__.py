"""HTTP plumbing both of our sanic services use (the card backend, the web process).

Modules:
  request   CheckedRequest: the request class (sanic 21.12's Content-Length guard)
  json      the JSON encoding of every answer, `json_response`, the one body parser
  errors    HttpError, the table of sanic's own errors, the JSON error handler
  blocking  DatabaseWork: blocking database work (bot.db.Database) off the event loop
  middleware  `on_request`: a check before every route of a blueprint (or group)
  app       `new_app`: a Sanic app with all of the above and the access log
"""
