"""Inbound messages: Twilio's webhook request, in; a stored message, exactly once, out."""
