"""Staff sign-in: the Flask-Login user loader (accounts are built with the staff console)."""

from __future__ import annotations

from app.extensions import login_manager


@login_manager.user_loader
def load_staff_user(user_id: str):
    return None
