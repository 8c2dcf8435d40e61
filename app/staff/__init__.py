"""The staff console: accounts, availability, slots, bookings, export, audit."""
