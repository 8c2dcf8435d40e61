"""Background jobs: the worker that delivers mail and keeps slots generated."""
