"""The slots of domain.yml, by name, and which of them hold personal data.

The action server (actions/) sets them and the Rasa server's redaction
(bot/tracker_store.py, bot/privacy/log_redaction.py) decides by them what to mask:
both import the names from here. tests/test_slot_names.py checks every name
against domain.yml and runs a whole verification to check that every slot the
identity form fills with a person's data is in PERSONAL_SLOTS.
"""
from __future__ import annotations

# --- identity verification (verify_identity_form) -------------------------------------------
HOLDER_NAME = "holder_name"  # sealed until the verification replaces it with the masked name
ID_NUMBER_MASKED = "id_number_masked"  # the masked ID number (the number itself is never kept)
SMS_CODE = "sms_code"  # "verified" / "failed" once done; never the code itself
VERIFICATION_ID = "verification_id"  # the backend's id of the verification in progress
VERIFICATION_TOKEN = "verification_token"  # sealed: the backend's proof of a verified holder
VERIFICATION_EXPIRES_AT = "verification_expires_at"
FORM_FAILURES = "form_failures"  # wrong values per slot: {slot name: count}
# --- the task asked for, and the confirmation it waits for -----------------------------------
PENDING_TASK = "pending_task"
PENDING_CARD_ID = "pending_card_id"
AWAITING_CONFIRMATION = "awaiting_confirmation"
# --- a call back from staff (callback_form, actions/callback.py) ---------------------------------
CALLBACK_CONSENT = "callback_consent"  # true / false: "shall staff call you back?"
CALLBACK_PHONE = "callback_phone"  # sealed until action_submit_callback hands it to the backend and clears it
# --- the conversation --------------------------------------------------------------------------
LANGUAGE = "language"  # zh / en, set by bot/nlu/language.py's entity
REQUESTED_SLOT = "requested_slot"  # Rasa's own: the slot the active form asks for

# The forms ask for these, in this order (domain.yml: verify_identity_form, callback_form).
IDENTITY_FORM = (HOLDER_NAME, ID_NUMBER_MASKED, SMS_CODE)
CALLBACK_FORM = (CALLBACK_CONSENT, CALLBACK_PHONE)

# Slots whose value is a person's data (what the identity form asks for, what
# the backend answers about the holder, the mobile number for a call back):
# only masked or sealed values may be set in them, and the tracker store and
# the logs redact them again.
PERSONAL_SLOTS = frozenset({HOLDER_NAME, ID_NUMBER_MASKED, SMS_CODE, VERIFICATION_TOKEN, CALLBACK_PHONE})
# Slots a form asks the user to fill with a yes or a no: no personal data.
YES_NO_SLOTS = frozenset({CALLBACK_CONSENT})
# Of those, a code the user typed or a credential: masked whole wherever a value
# is stored or logged, unless sealed (bot/privacy/sealed.py).
SECRET_SLOTS = frozenset({SMS_CODE, VERIFICATION_TOKEN})
# Names no slot has, whose value is a secret all the same wherever it appears
# as key/value (a log line, a field of a request, a slot added later).
SECRET_FIELDS = frozenset({"password", "pin"})
SECRET_NAMES = SECRET_SLOTS | SECRET_FIELDS
# The prompts whose answer is a secret or a number that identifies a person
# (the mobile number for a call back, typed in whatever form): a message typed
# there that holds a digit is stored masked whole.
SECRET_PROMPTS = frozenset({SMS_CODE, ID_NUMBER_MASKED, CALLBACK_PHONE})
