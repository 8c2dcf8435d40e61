"""The waiting list: people who want an earlier consultation are offered freed slots, in
the order they joined, and the first to claim one books it."""
