"""What the API accepts and returns; the password hash never leaves the server."""

from pydantic import BaseModel, ConfigDict, EmailStr, Field


class UserCreate(BaseModel):
    username: str = Field(min_length=3, max_length=50)
    email: EmailStr = Field(max_length=120)
    password: str = Field(min_length=8, max_length=128)


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    # Plain str: rows backfilled by revision 0002 carry a placeholder address on the
    # reserved .invalid domain, which an EmailStr would refuse to return.
    email: str
