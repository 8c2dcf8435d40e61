"""The scheduling rules consultations and treatment courses share: opening hours and closures,
clinic time, chairs and appointment types, what is free, and holding a time on a chair."""
