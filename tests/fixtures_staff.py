"""Staff console fixtures (accounts, signed-in clients)."""
