"""Extension objects, created unbound and initialised in create_app()."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from flask_limiter import Limiter
from flask_login import LoginManager
from flask_mail import Mail
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData, Table
from sqlalchemy.orm import DeclarativeBase

from app.i18n import KonvertBabel
from app.security import hashed_remote_address

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base with constraint names that migrations can refer to."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)

# The models' base class. At run time it is ``db.Model``, which Flask-SQLAlchemy builds from
# Base (copying its metadata) and its own Model mixin. mypy cannot use a class made at run time
# as a base ("Name db.Model is not defined"), so type checkers see a class with the same
# ancestry instead: every model is checked as a typed SQLAlchemy 2.0 declarative class.
if TYPE_CHECKING:
    from flask_sqlalchemy.model import Model as FlaskSQLAlchemyModel

    class Model(FlaskSQLAlchemyModel, Base):
        """What ``db.Model`` is at run time, as a class type checkers can use as a base."""

        __abstract__ = True
        # SQLAlchemy types it as any FromClause, since a class may map a join or a select;
        # every Konvert model maps one Table, whose columns Core statements use.
        __table__: ClassVar[Table]

else:
    Model = db.Model
migrate = Migrate()
csrf = CSRFProtect()
login_manager = LoginManager()
mail = Mail()
babel = KonvertBabel()
# Requests are counted by a keyed hash of the address, never the address itself, so that not
# even a shared rate-limit store (Redis) holds addresses.
limiter = Limiter(key_func=hashed_remote_address, default_limits=[])
