"""Calendar objects for bookings: invites (ics), add-to-calendar links, staff subscription feeds."""
