from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base


class Product(Base):
    __tablename__ = "product"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    # Whole cents: 12.50 is stored as 1250, no rounding surprises. Until 0004 this was
    # `price: Mapped[str] = mapped_column(String(20))`, holding text such as "12.50".
    price_cents: Mapped[int]

    def __repr__(self) -> str:
        return f"<Product {self.name!r}>"
