from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, status
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.db import get_session
from app.models import User
from app.schemas import UserCreate, UserRead
from app.security import hash_password

router = APIRouter(prefix="/users", tags=["users"])
SessionDep = Annotated[Session, Depends(get_session)]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=UserRead)
def create_user(payload: UserCreate, session: SessionDep) -> User:
    user = User(
        username=payload.username,
        email=str(payload.email),
        password_hash=hash_password(payload.password),
    )
    session.add(user)
    try:
        session.commit()
    except IntegrityError:
        # The unique constraint is the only judge: a check-then-insert would race, and
        # MariaDB's default collation also treats "Alice" and "alice" as the same name.
        session.rollback()
        raise HTTPException(status.HTTP_409_CONFLICT, f"username {payload.username!r} is taken") from None
    session.refresh(user)
    return user


@router.get("", response_model=list[UserRead])
def list_users(session: SessionDep) -> list[User]:
    return list(session.scalars(select(User).order_by(User.id)))


@router.get("/{user_id}", response_model=UserRead)
def get_user(user_id: int, session: SessionDep) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no user with id {user_id}")
    return user
