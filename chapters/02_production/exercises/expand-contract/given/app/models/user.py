from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base


class User(Base):
    """Release C's model: login only. It is what the table becomes at revision 0005."""

    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    login: Mapped[str] = mapped_column(String(50), unique=True, index=True)  # was `username` until 0005
    password_hash: Mapped[str] = mapped_column(String(128))
    email: Mapped[str] = mapped_column(String(120), comment="用户邮箱")

    def __repr__(self) -> str:
        return f"<User {self.login}>"
