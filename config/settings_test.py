"""Test settings: the same settings, a fast password hasher, and the database from XIAODAI_DATABASE_URL."""

from config.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
AXES_ENABLED = True
LOGGING = {"version": 1, "disable_existing_loggers": False}

# Jobs run inline, in the test's own transaction: a test sees a queued import through to its end.
HUEY = {**HUEY, "immediate": True}  # noqa: F405
