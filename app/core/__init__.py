"""Shared plumbing every feature uses: settings, extensions, the database, logs, security, time formatting."""
