"""Treatment courses: planning a course of sessions on the chairs and keeping it true."""
