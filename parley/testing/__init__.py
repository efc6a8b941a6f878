"""Testing assistants: replaying test stories (`parley test`)."""
