"""The card-status backend: the system of record the helpdesk's forms act on.

Modules:
  config      settings (through bot.settings), secrets, fixed rules (lifetimes, lock-out)
  models      SQLAlchemy tables
  db          engine and sessions from BACKEND_DB_URL; Alembic migrations (migrations/)
  service     domain logic over a Session: verification, lock-out, activation,
              loss reports, applications, handoff tickets, audit, idempotency
  sms         the SMS gateway interface and the development outbox
  validation  request parsing and validation against the OpenAPI request schemas
  openapi     the OpenAPI 3 document served at /openapi.json
  api         the sanic app
  seed        the demo data set (its docstring lists the demo identities)
  __main__    `python -m bot.backend {serve,seed,outbox,migrate}`

The contract is docs/BACKEND_API.md.
"""
