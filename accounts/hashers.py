"""Argon2, with a bound on how many hashes one process computes at once.

Each Argon2 hash takes a deliberate 100 MiB for a moment; a burst of sign-ins (random
usernames cost a hash too, so that timing tells nothing) would otherwise take every worker
thread's share at once. Beyond PASSWORD_HASHING_CONCURRENCY the rest wait their turn.
"""

import threading

from django.conf import settings
from django.contrib.auth.hashers import Argon2PasswordHasher

_slots: threading.BoundedSemaphore | None = None
_slots_lock = threading.Lock()


def _hashing_slots() -> threading.BoundedSemaphore:
    global _slots
    with _slots_lock:
        if _slots is None:
            _slots = threading.BoundedSemaphore(settings.PASSWORD_HASHING_CONCURRENCY)
        return _slots


class BoundedArgon2PasswordHasher(Argon2PasswordHasher):
    # The same algorithm name: stored hashes verify as before.

    def encode(self, password, salt):
        with _hashing_slots():
            return super().encode(password, salt)

    def verify(self, password, encoded):
        with _hashing_slots():
            return super().verify(password, encoded)
