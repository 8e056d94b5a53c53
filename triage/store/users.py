"""Users with roles and API tokens for machines. Passwords are hashed with Argon2
(argon2-cffi); tokens are random and stored only as their SHA-256."""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import VerificationError, VerifyMismatchError
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import ValidationError
from .audit import record
from .tables import ApiToken, User

__all__ = ["ROLES", "Principal", "create_user", "authenticate", "create_token", "principal_for_token",
           "set_password"]

ROLES = ("sachbearbeitung", "ombudsstelle", "admin")
_hasher = PasswordHasher()


@dataclass(frozen=True)
class Principal:
    """Who is asking: a person (by user name) or a machine (by token name), and the role."""

    name: str
    role: str
    kind: str = "user"


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise ValidationError("U002", role=role, allowed=", ".join(ROLES))


def create_user(session: Session, name: str, role: str, password: str | None = None) -> str:
    """Create a user; return the (one-time) password, generated when none is given."""
    _check_role(role)
    if session.scalar(select(User).where(User.name == name)) is not None:
        raise ValidationError("U001", name=name)
    password = password or secrets.token_urlsafe(12)
    session.add(User(name=name, role=role, password_hash=_hasher.hash(password)))
    record(session, "admin", "benutzer.angelegt", name=name, role=role)
    return password


def set_password(session: Session, name: str, password: str) -> None:
    user = session.scalar(select(User).where(User.name == name))
    if user is None:
        raise ValidationError("V001", field="name", reason=f"Benutzer {name} gibt es nicht")
    user.password_hash = _hasher.hash(password)


def authenticate(session: Session, name: str, password: str) -> Principal | None:
    user = session.scalar(select(User).where(User.name == name, User.active.is_(True)))
    if user is None:
        _hasher.hash(password)  # same work either way: no hint whether the name exists
        return None
    try:
        _hasher.verify(user.password_hash, password)
    except (VerifyMismatchError, VerificationError):
        return None
    return Principal(user.name, user.role)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(session: Session, name: str, role: str) -> str:
    _check_role(role)
    token = "krm_" + secrets.token_urlsafe(32)
    session.add(ApiToken(name=name, role=role, token_hash=_digest(token)))
    record(session, "admin", "token.angelegt", name=name, role=role)
    return token


def principal_for_token(session: Session, token: str) -> Principal | None:
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(token), ApiToken.active.is_(True)))
    return Principal(row.name, row.role, "token") if row else None
