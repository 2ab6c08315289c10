"""Models of this app land with its issue; the app exists so that work has a home."""
