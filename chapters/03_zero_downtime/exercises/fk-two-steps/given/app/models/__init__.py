"""Every model module is imported here, and only here.

Alembic's env.py imports this package: a table whose module is missing from this list is
invisible to autogenerate, which then proposes to drop it.
"""

from app.models.base import Base
from app.models.post import Post
from app.models.user import User

__all__ = ["Base", "Post", "User"]
