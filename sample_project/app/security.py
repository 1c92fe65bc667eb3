"""Password hashing with Argon2 (pwdlib), at the cost the settings ask for."""

from functools import lru_cache

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from app.config import get_settings


@lru_cache
def password_hash() -> PasswordHash:
    settings = get_settings()
    return PasswordHash(
        (Argon2Hasher(time_cost=settings.argon2_time_cost, memory_cost=settings.argon2_memory_cost),)
    )


def hash_password(password: str) -> str:
    return password_hash().hash(password)


def verify_password(password: str, hashed: str) -> bool:
    return password_hash().verify(password, hashed)
