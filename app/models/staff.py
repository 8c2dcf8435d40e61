"""Staff accounts and the audit log of their actions (defined with the staff console)."""
