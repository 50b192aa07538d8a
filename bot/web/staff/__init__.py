"""Staff accounts: who may use the FAQ lookup.

  models     the tables: accounts, login sessions, failed logins
  store      the database (STAFF_DB_URL): engine, sessions, schema
  passwords  scrypt hashes with a per-user salt
  accounts   adding / resetting an account, checking a password
  logins     login sessions (server-side rows, expiry) and the failed-login throttle
  guard      the login cookie and CSRF checks, as blueprint middleware
  routes     /staff, /staff/login, /api/staff/..., /api/faq/search: one blueprint per resource
  handoffs   /api/staff/handoffs...: the live hand-over queue, claim, transcript, messages, release
"""
