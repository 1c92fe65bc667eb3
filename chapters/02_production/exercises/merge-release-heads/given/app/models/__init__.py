"""Every model module is imported here, and only here."""

from app.models.audit import AuditLog
from app.models.base import Base
from app.models.user import User

__all__ = ["AuditLog", "Base", "User"]
