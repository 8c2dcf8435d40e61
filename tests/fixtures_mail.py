"""Mail fixtures (a real SMTP server on loopback)."""
