"""The patient-facing booking pages: /book and the private manage link."""
