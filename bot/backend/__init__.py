"""The card-status backend: the system of record the helpdesk's forms act on.

Modules:
  config      settings (through bot.core.settings), secrets, fixed rules (lifetimes, lock-out)
  models      SQLAlchemy tables
  db          the database at BACKEND_DB_URL (bot.db.Database), brought up to date
              by the Alembic migrations (migrations/)
  service     domain logic over a Session: verification, lock-out, activation,
              loss reports, applications, handoff tickets (opening, the queue
              position), audit, idempotency
  handoffs    live hand-over: claim, release, staff message audit, call-back,
              the expiry sweep (conditional UPDATEs: one winner)
  sealing     values kept but never in clear (a hand-over's conversation, the
              call-back phone): Fernet under a key derived from BACKEND_ID_HASH_KEY
  sms         the SMS gateway interface and the development outbox
  validation  request parsing and validation against the OpenAPI request schemas
  openapi     the OpenAPI 3 document served at /openapi.json
  errors      DomainError (bot.http's HttpError) and the common refusals
  routes/     one sanic Blueprint per resource (verifications, cards, applications,
              tickets, handoffs, the development outbox, the public /health and /openapi.json),
              the service-credential guard, holder scope, idempotency
  api         the sanic app: the blueprints put together
  seed        the demo data set (its docstring lists the demo identities)
  __main__    `python -m bot.backend {serve,seed,outbox,migrate}`

The contract is docs/BACKEND_API.md.
"""
