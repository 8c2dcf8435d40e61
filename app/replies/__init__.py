"""Inbound mail to the clinic: calendar replies (iMIP) acted on, everything else passed to staff."""
