"""The web process: the citizens' chat widget, the staff FAQ lookup and live hand-overs.

Modules:
  config       settings (through bot.core.settings), secrets, fixed limits
  http         JSON responses and errors, security headers, body parsing
  sessions     signed chat session ids (the Rasa sender id is never chosen by the browser)
  rasa_client  the Rasa server's REST channel, tracker and /model/parse
  chat         routes of the widget: /api/chat/... (a conversation held by a person is routed to staff)
  handoff_state  what the web knows of a live hand-over: marks, version counters, the citizen's view
  handoff_sweep  the background task offering a call back when nobody claims in HANDOFF_WAIT_MINUTES
  faq_search   ranking knowledge-base topics: the NLU model, BM25 as fallback
  tickets      open human-handoff tickets from the card backend
  staff/       accounts (scrypt), sessions, login throttling, their tables, routes
  pages        the HTML pages and static files
  app          the sanic app factory
  __main__     `python -m bot.web {serve,add-staff}`

docs/WEB.md describes the API and how to embed the widget.
"""
