"""The backend's routes: one sanic Blueprint per resource; api.py puts them together.

  context        Backend: what every route works with (settings, database work, SMS gateway)
  guards         the service credential (middleware of every blueprint but `public`),
                 the holder's verification token
  idempotency    Idempotency-Key, the request's fingerprint, answers replayed once stored
  public         GET /health, GET /openapi.json (no credential)
  verifications  POST /v1/verifications, POST /v1/verifications/{id}/confirm
  cards          GET /v1/cards, POST /v1/cards/{id}/activate, POST /v1/cards/{id}/loss-report
  applications   GET /v1/applications
  tickets        /v1/handoff-tickets: open, list, close
  handoffs       /v1/handoffs: the queue, get, lookup, claim, release, messages, callback, expire
  retention      POST /v1/retention/purge: hand-over tickets older than RETENTION_DAYS
  dev_outbox     GET /dev/outbox (development mode only)
"""
