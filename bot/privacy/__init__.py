"""Personal data: what it looks like, and how none of it is kept or logged in clear.

  pii            resident ID numbers, phones, names: validation, masking, redaction of text
  sealed         slot values only the action server can read, bound to their conversation
  slots          every slot's name, and which ones hold personal data or secrets
  walk           the walker that masks every string in a nested value
  log_redaction  no personal data in any log line, structlog event, warning or write to stdout/stderr
"""
