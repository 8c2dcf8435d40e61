"""The booking domain: when consultations can happen, and booking, cancelling and moving them."""
