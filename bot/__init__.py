"""The social security card helpdesk: everything of ours that is not Rasa's own files."""
