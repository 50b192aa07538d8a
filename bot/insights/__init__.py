"""What the helpdesk learns from its own conversations (issue 13).

    facts       the facts tables (insight_turns, insight_conversations, insight_progress) on the staff
                database, what a citizen message and a session become, and their retention (`purge`)
    indexer     reads the tracker store's new events into the facts, in the web process every
                INDEX_SECONDS and before a figures or review request (one process at a time: a lease)
    analytics   the figures of a period (/api/staff/analytics, JSON and CSV)
    review      the review inbox built from the facts (helper R)
"""
