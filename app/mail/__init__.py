"""Email: composing messages from templates, the durable outbox, and the delivery worker."""
