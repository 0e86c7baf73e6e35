"""huey 3.5: the part Konvert uses (see typings/README.md)."""

from huey.api import Huey as Huey
from huey.api import MemoryHuey as MemoryHuey
from huey.api import RedisHuey as RedisHuey
from huey.api import SqliteHuey as SqliteHuey
from huey.api import crontab as crontab
