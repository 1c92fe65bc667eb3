from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base


class Post(Base):
    __tablename__ = "post"

    id: Mapped[int] = mapped_column(primary_key=True)
    # NULL: the author's account was deleted; the post stays.
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))  # the foreign key: since 0004
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)

    def __repr__(self) -> str:
        return f"<Post {self.title!r}>"
