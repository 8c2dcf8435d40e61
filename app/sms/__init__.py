"""Text messages: their words, the provider, consent, opt-outs and replies."""
