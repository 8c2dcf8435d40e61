"""Blueprints, one per audience: public pages, booking, manage links, API, staff, health."""
