"""App with no trailing newline — ünïcode."""
APP = "ok"