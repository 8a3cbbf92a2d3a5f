"""Echo: a toy job Tag that exists only in tests, to show what adding a Tag takes."""
