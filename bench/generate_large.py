"""Build a large, realistic data set for the load benchmark (bench/load.py, `make bench-load`).

In a fresh instance folder (default ``instance-bench/`` at the repository root), or in the
PostgreSQL database given by ``--database-url`` (what `make bench-load DB=postgres` does, with
the instance folder beside it): migrate with the real migrations, load the template library
and the federal officials as ``scripts/run.sh`` does, then insert, one transaction per batch,
with SQLAlchemy Core bulk inserts (executemany) on SQLite and COPY on PostgreSQL:

- 300 facilities over 62 regions, of every kind, with official-pattern names, 6-digit postcodes
  and a hidden mail profile each: a lognormal delay with a median of 7–20 days (30–60 days for
  remote ones), a withheld share from 1 % to 40 %, a returned share and a reply rate;
- 10,000 prisoners with placement histories: about 20 % transferred at least once, some of
  them in transit right now (an open placement without a facility), exactly one open placement
  each;
- letters, and mail events (1,000,000 by default, ``--events``) over the last three years. A
  letter goes to the facility the prisoner was in on the day it was sent; its events are "sent"
  and then arrived, reply, returned, withheld or no news, with the facility's skewed delays and
  outcomes (electronic letters 1–5 days). Channels are mostly post, then registered post,
  electronic letters and organisations. A few letters are reported twice, with contradictory
  dates or without a "sent" report, as real reports are. Nothing happens after today.

Then ``letter_outcome`` is rebuilt from the events, the overview and the facility figures are
stored as ``flask stats rebuild`` does, the planner's statistics are gathered (on PostgreSQL
also the id sequences moved past the ids written and VACUUM FREEZE, so that the first readers
do not rewrite every page), and the marker that tells ``scripts/run.sh`` the demo data was
loaded is written last, so ``make run`` on this folder adds no demo data (and bench/load.sh
builds a PostgreSQL data set again when a build did not finish).

Deterministic for a given ``--seed`` and ``--today``. Measured on the 2-core development machine:
see the README's bench section.

Run: .venv/bin/python bench/generate_large.py [--instance PATH] [--events 1000000]
                                              [--prisoners 10000] [--facilities 300]
                                              [--seed N] [--today YYYY-MM-DD] [--force]
                                              [--database-url postgresql+psycopg://…]
"""

from __future__ import annotations

import argparse
import base64
import bisect
import itertools
import json
import math
import random
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any, NamedTuple

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# After the path set-up above: app/__init__.py imports the top-level config module.
from app.demo.data import demo_data  # noqa: E402
from app.demo.plan import russian_post_number  # noqa: E402
from app.models.base import kept_time  # noqa: E402
from app.models.letter import letter_link_hash  # noqa: E402
from app.models.prisoner import build_search_text  # noqa: E402
from app.privacy.crypto import encrypt_field, letter_keys  # noqa: E402

demo = demo_data().texts  # signatures, sentences and postal notes of the demo letters

DEFAULT_INSTANCE = ROOT / "instance-bench"
DEMO_MARKER = ".demo-loaded"  # `flask setup` loads demo data unless this file exists
SEED = 20_251_105
WINDOW_DAYS = 3 * 365
BATCH_ROWS = 20_000  # letters per transaction (their events go in the same transaction)

# name, dative after «по», capital, postcode prefix, remote, big (a ГУФСИН rather than a УФСИН)
REGIONS: tuple[tuple[str, str, str, str, bool, bool], ...] = (
    ("г. Москва", "г. Москве", "г. Москва", "109", False, True),
    ("г. Санкт-Петербург", "г. Санкт-Петербургу и Ленинградской области",
     "г. Санкт-Петербург", "195", False, True),
    ("Московская область", "Московской области", "г. Можайск", "143", False, True),
    ("Ленинградская область", "г. Санкт-Петербургу и Ленинградской области", "г. Тосно",
     "187", False, True),
    ("Владимирская область", "Владимирской области", "г. Владимир", "600", False, False),
    ("Ярославская область", "Ярославской области", "г. Ярославль", "150", False, False),
    ("Тверская область", "Тверской области", "г. Тверь", "170", False, False),
    ("Рязанская область", "Рязанской области", "г. Рязань", "390", False, False),
    ("Тульская область", "Тульской области", "г. Тула", "300", False, False),
    ("Калужская область", "Калужской области", "г. Калуга", "248", False, False),
    ("Смоленская область", "Смоленской области", "г. Смоленск", "214", False, False),
    ("Брянская область", "Брянской области", "г. Брянск", "241", False, False),
    ("Орловская область", "Орловской области", "г. Орёл", "302", False, False),
    ("Курская область", "Курской области", "г. Курск", "305", False, False),
    ("Белгородская область", "Белгородской области", "г. Белгород", "308", False, False),
    ("Воронежская область", "Воронежской области", "г. Воронеж", "394", False, False),
    ("Липецкая область", "Липецкой области", "г. Липецк", "398", False, False),
    ("Тамбовская область", "Тамбовской области", "г. Тамбов", "392", False, False),
    ("Ивановская область", "Ивановской области", "г. Иваново", "153", False, False),
    ("Костромская область", "Костромской области", "г. Кострома", "156", False, False),
    ("Нижегородская область", "Нижегородской области", "г. Нижний Новгород", "603",
     False, True),
    ("Республика Мордовия", "Республике Мордовия", "г. Саранск", "431", False, False),
    ("Чувашская Республика", "Чувашской Республике", "г. Чебоксары", "428", False, False),
    ("Республика Татарстан", "Республике Татарстан", "г. Казань", "420", False, False),
    ("Пензенская область", "Пензенской области", "г. Пенза", "440", False, False),
    ("Саратовская область", "Саратовской области", "г. Саратов", "410", False, False),
    ("Самарская область", "Самарской области", "г. Самара", "443", False, True),
    ("Ульяновская область", "Ульяновской области", "г. Ульяновск", "432", False, False),
    ("Волгоградская область", "Волгоградской области", "г. Волгоград", "400", False, False),
    ("Ростовская область", "Ростовской области", "г. Ростов-на-Дону", "344", False, True),
    ("Краснодарский край", "Краснодарскому краю", "г. Краснодар", "350", False, True),
    ("Ставропольский край", "Ставропольскому краю", "г. Ставрополь", "355", False, False),
    ("Астраханская область", "Астраханской области", "г. Астрахань", "414", False, False),
    ("Республика Дагестан", "Республике Дагестан", "г. Махачкала", "367", False, False),
    ("Кабардино-Балкарская Республика", "Кабардино-Балкарской Республике", "г. Нальчик",
     "360", False, False),
    ("Оренбургская область", "Оренбургской области", "г. Оренбург", "460", False, False),
    ("Республика Башкортостан", "Республике Башкортостан", "г. Уфа", "450", False, False),
    ("Пермский край", "Пермскому краю", "г. Пермь", "614", False, True),
    ("Удмуртская Республика", "Удмуртской Республике", "г. Ижевск", "426", False, False),
    ("Кировская область", "Кировской области", "г. Киров", "610", False, False),
    ("Свердловская область", "Свердловской области", "г. Екатеринбург", "620", False, True),
    ("Челябинская область", "Челябинской области", "г. Челябинск", "454", False, True),
    ("Курганская область", "Курганской области", "г. Курган", "640", False, False),
    ("Тюменская область", "Тюменской области", "г. Тюмень", "625", False, False),
    ("Ханты-Мансийский автономный округ — Югра", "Ханты-Мансийскому автономному округу — Югре",
     "г. Ханты-Мансийск", "628", True, False),
    ("Ямало-Ненецкий автономный округ", "Ямало-Ненецкому автономному округу",
     "г. Лабытнанги", "629", True, False),
    ("Омская область", "Омской области", "г. Омск", "644", False, False),
    ("Новосибирская область", "Новосибирской области", "г. Новосибирск", "630", False, True),
    ("Томская область", "Томской области", "г. Томск", "634", False, False),
    ("Кемеровская область — Кузбасс", "Кемеровской области — Кузбассу", "г. Кемерово", "650",
     False, True),
    ("Алтайский край", "Алтайскому краю", "г. Барнаул", "656", False, False),
    ("Красноярский край", "Красноярскому краю", "г. Красноярск", "660", True, True),
    ("Иркутская область", "Иркутской области", "г. Иркутск", "664", True, True),
    ("Республика Бурятия", "Республике Бурятия", "г. Улан-Удэ", "670", True, False),
    ("Забайкальский край", "Забайкальскому краю", "г. Чита", "672", True, False),
    ("Амурская область", "Амурской области", "г. Благовещенск", "675", True, False),
    ("Хабаровский край", "Хабаровскому краю", "г. Хабаровск", "680", True, False),
    ("Приморский край", "Приморскому краю", "г. Владивосток", "690", True, True),
    ("Республика Саха (Якутия)", "Республике Саха (Якутия)", "г. Якутск", "677", True, False),
    ("Республика Коми", "Республике Коми", "г. Сыктывкар", "167", True, False),
    ("Архангельская область", "Архангельской области", "г. Архангельск", "163", False, False),
    ("Мурманская область", "Мурманской области", "г. Мурманск", "183", False, False),
)  # fmt: skip

TOWNS = (
    "пос. Сосновка", "пос. Лесной", "пос. Заречный", "с. Никольское", "пос. Мирный",
    "пос. Первомайский", "пос. Октябрьский", "г. Каменка", "пос. Северный", "пос. Юбилейный",
    "с. Троицкое", "пос. Белый Яр", "пос. Речной", "г. Красный Холм", "пос. Ударный",
    "с. Покровское", "пос. Горный", "пос. Лесогорский", "г. Берёзовка", "пос. Светлый",
)  # fmt: skip
STREETS = (
    "ул. Ленина", "ул. Советская", "ул. Заводская", "ул. Лесная", "ул. Садовая",
    "ул. Центральная", "ул. Промышленная", "ул. Набережная", "ул. Школьная", "ул. Мира",
    "ул. Строителей", "ул. Октябрьская", "ул. Железнодорожная", "ул. Северная", "ул. Полевая",
    "пер. Почтовый", "Южное ш.",
)  # fmt: skip
MAIL_RULES = (
    "Можно вложить до трёх фотографий.",
    "Письма проходят цензуру; ответ обычно приходит через 4–6 недель.",
    "Бандероли и открытки с блёстками не принимают.",
    "Электронные письма распечатывают раз в день; ответ сканируют в течение недели.",
)

# Every region has a pre-trial centre; the other facilities are of these kinds:
# (code prefix, kind, share). Big regions have a few more pre-trial centres.
KINDS: tuple[tuple[str, str, float], ...] = (
    ("ИК", "colony", 0.58),
    ("СИЗО", "pretrial", 0.05),
    ("КП", "settlement", 0.12),
    ("ЛИУ", "hospital", 0.08),
    ("Т", "prison", 0.06),
    ("ВК", "other", 0.11),
)

MALE_SURNAMES = (
    "Иванов", "Смирнов", "Кузнецов", "Попов", "Васильев", "Петров", "Соколов", "Михайлов",
    "Новиков", "Фёдоров", "Морозов", "Волков", "Алексеев", "Лебедев", "Семёнов", "Егоров",
    "Павлов", "Козлов", "Степанов", "Николаев", "Орлов", "Андреев", "Макаров", "Никитин",
    "Захаров", "Зайцев", "Соловьёв", "Борисов", "Яковлев", "Григорьев", "Романов", "Воробьёв",
    "Сергеев", "Кузьмин", "Фролов", "Александров", "Дмитриев", "Королёв", "Гусев", "Киселёв",
    "Ильин", "Максимов", "Поляков", "Сорокин", "Виноградов", "Ковалёв", "Белов", "Медведев",
    "Антонов", "Тарасов", "Жуков", "Баранов", "Филиппов", "Комаров", "Давыдов", "Беляев",
    "Герасимов", "Богданов", "Осипов", "Сидоров", "Матвеев", "Титов", "Марков", "Миронов",
    "Крылов", "Куликов", "Карпов", "Власов", "Мельников", "Денисов", "Гаврилов", "Тихонов",
    "Гарипов", "Юсупов", "Сафин", "Хабибуллин", "Алиев", "Мамедов", "Островский", "Левицкий",
    "Покровский", "Вишневский", "Полевой", "Толстой", "Шевчук", "Ким", "Коваленко", "Цой",
)  # fmt: skip
MALE_NAMES = (
    "Александр", "Алексей", "Андрей", "Антон", "Артём", "Борис", "Вадим", "Валерий", "Василий",
    "Виктор", "Виталий", "Владимир", "Владислав", "Вячеслав", "Георгий", "Григорий", "Денис",
    "Дмитрий", "Евгений", "Егор", "Иван", "Игорь", "Илья", "Кирилл", "Константин", "Леонид",
    "Максим", "Михаил", "Никита", "Николай", "Олег", "Павел", "Роман", "Руслан", "Сергей",
    "Станислав", "Степан", "Тимур", "Фёдор", "Юрий", "Ярослав", "Марат", "Ринат",
)  # fmt: skip
FEMALE_NAMES = (
    "Александра", "Алина", "Анастасия", "Анна", "Валентина", "Вера", "Виктория", "Галина",
    "Дарья", "Евгения", "Екатерина", "Елена", "Елизавета", "Ирина", "Ксения", "Лариса",
    "Людмила", "Марина", "Мария", "Надежда", "Наталья", "Нина", "Ольга", "Полина", "Светлана",
    "Софья", "Татьяна", "Юлия",
)  # fmt: skip
PATRONYMICS = (
    ("Александрович", "Александровна"), ("Алексеевич", "Алексеевна"),
    ("Андреевич", "Андреевна"), ("Борисович", "Борисовна"), ("Васильевич", "Васильевна"),
    ("Викторович", "Викторовна"), ("Владимирович", "Владимировна"),
    ("Геннадьевич", "Геннадьевна"), ("Григорьевич", "Григорьевна"),
    ("Дмитриевич", "Дмитриевна"), ("Евгеньевич", "Евгеньевна"), ("Иванович", "Ивановна"),
    ("Игоревич", "Игоревна"), ("Константинович", "Константиновна"),
    ("Михайлович", "Михайловна"), ("Николаевич", "Николаевна"), ("Олегович", "Олеговна"),
    ("Павлович", "Павловна"), ("Петрович", "Петровна"), ("Сергеевич", "Сергеевна"),
    ("Юрьевич", "Юрьевна"), ("Анатольевич", "Анатольевна"), ("Валерьевич", "Валерьевна"),
    ("Вячеславович", "Вячеславовна"), ("Фёдорович", "Фёдоровна"), ("Ильич", "Ильинична"),
    ("Маратович", "Маратовна"), ("Рашидович", "Рашидовна"),
)  # fmt: skip
CASES = (
    "Дело о распространении «заведомо ложной информации» об армии.",
    "Дело об антивоенных публикациях в социальных сетях.",
    "Дело об «оправдании терроризма» из-за комментария в чате.",
    "Дело о «госизмене» из-за денежного перевода.",
    "Задержание после одиночного пикета.",
    "Дело об участии в «экстремистской организации».",
)
INTERESTS = ("книги, шахматы", "история, языки", "музыка", "футбол", "кино", "рисование")
REGIMES = ("колонии общего режима", "колонии строгого режима", "колонии-поселения")


@dataclass
class FacilityPlan:
    """A facility and how mail behaves there (the profile is not stored, only its effects)."""

    id: int
    kind: str
    region: int
    electronic: bool
    median_days: float
    sigma: float
    withheld_share: float
    returned_share: float
    reply_rate: float


@dataclass
class PrisonerPlan:
    """A prisoner's stays in facilities inside the window: (first day, last day + 1, facility,
    the day the stay ended or None)."""

    id: int
    weight: float
    stays: list[tuple[int, int, FacilityPlan, date | None]] = field(default_factory=list)


Event = tuple[str, date, str | None, str | None, str]  # kind, day, channel, tracking no., note


class LetterPlan(NamedTuple):
    """One letter as it will be inserted, with its events."""

    created_at: datetime
    prisoner_id: int
    facility_id: int
    token: str
    language: str
    body: str
    signature: str
    template_id: int | None
    events: list[Event]


def log(started: float, message: str) -> None:
    """Print a progress line with the elapsed time."""
    print(f"[{time.perf_counter() - started:7.1f} s] {message}", flush=True)


def years_word(years: int) -> str:
    """«2 года», «5 лет»: the plural the number needs."""
    if years % 10 == 1 and years % 100 != 11:
        return "год"
    if years % 10 in (2, 3, 4) and years % 100 not in (12, 13, 14):
        return "года"
    return "лет"


def female_surname(surname: str) -> str:
    """The feminine form of a surname; indeclinable ones stay as they are."""
    for ending, feminine in (("ский", "ская"), ("цкий", "цкая"), ("ой", "ая")):
        if surname.endswith(ending):
            return surname[: -len(ending)] + feminine
    if surname.endswith(("ов", "ев", "ёв", "ин")):
        return surname + "а"
    return surname


def weighted_picker(rng: random.Random, weights: Sequence[float]) -> Callable[[], int]:
    """A function returning an index with probability proportional to its weight."""
    cumulative = list(itertools.accumulate(weights))
    total = cumulative[-1]
    rand = rng.random
    return lambda: bisect.bisect_right(cumulative, rand() * total)


def make_facilities(
    rng: random.Random, count: int, now: datetime
) -> tuple[list[dict[str, Any]], list[FacilityPlan]]:
    """Facility rows and their mail profiles: every region gets one, big regions more."""
    regions = list(range(len(REGIONS)))
    weights = [3.0 if REGIONS[r][5] else 1.0 for r in regions]
    pick_region = weighted_picker(rng, weights)
    assigned = regions[:count] + [pick_region() for _ in range(max(0, count - len(regions)))]
    pick_kind = weighted_picker(rng, [share for _, _, share in KINDS])
    numbers: dict[tuple[str, str], int] = {}
    rows: list[dict[str, Any]] = []
    plans: list[FacilityPlan] = []
    previous_region = -1
    for index, region in enumerate(sorted(assigned), start=1):
        name, dative, capital, prefix, remote, big = REGIONS[region]
        first_in_region = region != previous_region
        previous_region = region
        prefix_code, kind, _ = ("СИЗО", "pretrial", 0.0) if first_in_region else KINDS[pick_kind()]
        # Numbered per directorate: St Petersburg and Leningrad Oblast share one.
        number = numbers.get((dative, prefix_code), rng.randint(0, 3)) + rng.randint(1, 4)
        numbers[dative, prefix_code] = number
        code = f"{prefix_code}-{number}"
        directorate = "ГУФСИН" if big else "УФСИН"
        in_capital = kind == "pretrial" or rng.random() < 0.3
        locality = capital if in_capital else rng.choice(TOWNS)
        postcode = prefix + (
            f"0{rng.randint(0, 99):02d}" if in_capital else str(rng.randint(100, 999))
        )
        roll = rng.random()
        electronic = (
            "ФСИН-письмо" if roll < 0.75 else "ФСИН-письмо, Зонателеком" if roll < 0.9 else ""
        )
        far = (remote and rng.random() < 0.6) or rng.random() < 0.03
        rows.append(
            {
                "id": index,
                "external_id": f"bench-f-{index}",
                "code": code,
                "name": f"ФКУ {code} {directorate} России по {dative}",
                "kind": kind,
                "region": name,
                "country": "RU",
                "postcode": postcode,
                "locality": locality,
                "street_address": f"{rng.choice(STREETS)}, д. {rng.randint(1, 120)}",
                "electronic_services": electronic,
                "mail_rules": rng.choice(MAIL_RULES) if rng.random() < 0.25 else "",
                "max_letter_pages": rng.choice((3, 5))
                if electronic and rng.random() < 0.2
                else None,
                "source_url": None,
                "is_demo": False,
                "created_at": now - timedelta(days=WINDOW_DAYS + rng.randint(30, 400)),
            }
        )
        plans.append(
            FacilityPlan(
                id=index,
                kind=kind,
                region=region,
                electronic=bool(electronic),
                median_days=rng.uniform(30, 60) if far else rng.uniform(7, 20),
                sigma=rng.uniform(0.25, 0.55),
                # Most facilities withhold little; a few withhold a lot (up to 40 %).
                withheld_share=rng.uniform(0.25, 0.40)
                if rng.random() < 0.06
                else 0.01 + 0.2 * rng.betavariate(1.0, 3.5),
                returned_share=rng.uniform(0.01, 0.06),
                reply_rate=rng.uniform(0.2, 0.55),
            )
        )
    return rows, plans


def make_prisoners(
    rng: random.Random,
    count: int,
    facilities: list[FacilityPlan],
    today: date,
    now: datetime,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[PrisonerPlan]]:
    """Prisoner rows, placement rows and, per prisoner, the stays letters can be sent to."""
    by_kind: dict[str, list[FacilityPlan]] = {}
    for facility in facilities:
        by_kind.setdefault(facility.kind, []).append(facility)
    pretrial = by_kind["pretrial"]
    serving = [f for f in facilities if f.kind != "pretrial"]
    window_start = today - timedelta(days=WINDOW_DAYS)
    search_cache: dict[tuple[str, str, str | None], str] = {}

    prisoners: list[dict[str, Any]] = []
    placements: list[dict[str, Any]] = []
    plans: list[PrisonerPlan] = []
    for pid in range(1, count + 1):
        male = rng.random() < 0.88
        surname = rng.choice(MALE_SURNAMES)
        last = surname if male else female_surname(surname)
        first = rng.choice(MALE_NAMES if male else FEMALE_NAMES)
        patronymic = None if rng.random() < 0.03 else rng.choice(PATRONYMICS)[0 if male else 1]
        detained = today - timedelta(days=rng.randint(45, 3500))
        birth = date(rng.randint(1955, 2004), rng.randint(1, 12), rng.randint(1, 28))
        roll = rng.random()

        # Stays as (facility or None for transit, start, end or None); oldest first.
        stays: list[tuple[FacilityPlan | None, date, date | None]] = []
        if roll < 0.2 and (today - detained).days > 120:
            status = "convicted"
            transfers = rng.choices((1, 2, 3), (70, 22, 8))[0]
            # Transfer days spread between detention and today, in order.
            span = (today - detained).days - 20
            days = sorted(rng.sample(range(60, span), transfers)) if span > 60 + transfers else []
            current = rng.choice(pretrial)
            start = detained
            in_transit_now = rng.random() < 0.075
            for n, offset in enumerate(days):
                moved_on = detained + timedelta(days=offset)
                stays.append((current, start, moved_on))
                last_transfer = n == len(days) - 1
                if last_transfer and in_transit_now:
                    moved_on = today - timedelta(days=rng.randint(3, 120))
                    moved_on = max(moved_on, start + timedelta(days=1))
                    stays[-1] = (current, start, moved_on)
                    stays.append((None, moved_on, None))
                    status = "in_transit"
                    break
                if rng.random() < 0.7:  # the weeks on the road are recorded
                    arrived = moved_on + timedelta(days=rng.randint(5, 40))
                    arrived = min(arrived, today - timedelta(days=1))
                    if arrived > moved_on:
                        stays.append((None, moved_on, arrived))
                        moved_on = arrived
                pool = [f for f in serving if f.region == current.region]
                current = rng.choice(pool) if pool and rng.random() < 0.5 else rng.choice(serving)
                start = moved_on
            if status != "in_transit":
                stays.append((current, start, None))
        elif roll < 0.45:
            status = "pretrial"
            stays.append((rng.choice(pretrial), detained, None))
        else:
            status = "convicted"
            stays.append((rng.choice(serving), detained, None))

        years = rng.randint(2, 12)
        key = (last, first, patronymic)
        if key not in search_cache:
            search_cache[key] = build_search_text(
                SimpleNamespace(  # type: ignore[arg-type] - only the name fields are read
                    last_name=last,
                    first_name=first,
                    patronymic=patronymic,
                    last_name_latin=None,
                    first_name_latin=None,
                )
            )
        birth_roll = rng.random()
        prisoners.append(
            {
                "id": pid,
                "external_id": f"bench-p-{pid}",
                "last_name": last,
                "first_name": first,
                "patronymic": patronymic,
                "last_name_latin": None,
                "first_name_latin": None,
                "gender": "m" if male else "f",
                "birth_date": birth if birth_roll < 0.6 else None,
                "birth_year": birth.year if 0.6 <= birth_roll < 0.9 else None,
                "status": status,
                "case_summary": rng.choice(CASES),
                "detained_on": detained,
                "sentence": ""
                if status == "pretrial"
                else f"{years} {years_word(years)} {rng.choice(REGIMES)}",
                "languages": "ru,en" if rng.random() < 0.08 else "ru",
                "interests": rng.choice(INTERESTS) if rng.random() < 0.4 else "",
                "notes_for_writers": "",
                "accepts_letters": rng.random() < 0.97,
                "source_url": None,
                "name_overrides": {},
                "is_demo": False,
                "search_text": search_cache[key],
                "created_at": now - timedelta(days=min((today - detained).days, 2000)),
            }
        )
        plan = PrisonerPlan(id=pid, weight=min(rng.paretovariate(1.3), 300.0))
        for facility, start, end in stays:
            placements.append(
                {
                    "id": len(placements) + 1,
                    "prisoner_id": pid,
                    "facility_id": facility.id if facility else None,
                    "started_on": start,
                    "ended_on": end,
                    "note": "" if facility else "этап",
                }
            )
            if facility is None:
                continue
            low = max((start - window_start).days, 0)
            high = min(((end or today + timedelta(days=1)) - window_start).days, WINDOW_DAYS + 1)
            if high > low:
                plan.stays.append((low, high, facility, end))
        covered = sum(high - low for low, high, _, _ in plan.stays)
        plan.weight *= covered / (WINDOW_DAYS + 1)
        plans.append(plan)
    return prisoners, placements, plans


def letter_events(
    rng: random.Random,
    facility: FacilityPlan,
    stay_end: date | None,
    sent_on: date,
    today: date,
) -> list[Event]:
    """What happened to one letter: (kind, day, channel, tracking number, note), sent first.

    Only events on or before ``today``; a few reports are duplicated, contradictory or lack
    the "sent" report, as real ones do.
    """
    roll = rng.random()
    if facility.electronic:
        channel = (
            "post" if roll < 0.58 else "registered" if roll < 0.78 else
            "electronic" if roll < 0.94 else "organisation"
        )  # fmt: skip
    else:
        channel = "post" if roll < 0.68 else "registered" if roll < 0.93 else "organisation"
    tracking = (
        russian_post_number(rng, rng.choice(demo.posting_offices), sent_on.month)
        if channel == "registered"
        else None
    )
    events = [("sent", sent_on, channel, tracking, "")]

    median, sigma = facility.median_days, facility.sigma
    if channel == "electronic":
        delay = min(5, max(1, round(rng.lognormvariate(math.log(2.0), 0.5))))
    else:
        factor = {"post": 1.0, "registered": 0.9, "organisation": 1.1}[channel]
        delay = max(1, round(median * factor * rng.lognormvariate(0.0, sigma)))
    arrival = sent_on + timedelta(days=delay)
    reported = {"post": 0.35, "registered": 0.85, "electronic": 0.95, "organisation": 0.6}
    tracked = rng.random() < reported[channel]

    def add(kind: str, day: date, note: str = "") -> None:
        if day <= today:
            events.append((kind, day, None, None, note))

    outcome = rng.random()
    if stay_end is not None and arrival >= stay_end:
        # The prisoner was moved before the letter got there: it comes back.
        add("returned", arrival + timedelta(days=rng.randint(7, 25)), demo.return_moved)
    elif outcome < facility.returned_share:
        if tracked:
            add("arrived", arrival)
        add(
            "returned",
            arrival + timedelta(days=rng.randint(10, 30)),
            rng.choice(demo.return_reasons),
        )
    elif outcome < facility.returned_share + facility.withheld_share:
        if tracked:
            add("arrived", arrival)
        add(
            "withheld",
            arrival + timedelta(days=rng.randint(3, 30)),
            rng.choice(demo.withheld_notes),
        )
    else:
        if tracked:
            add("arrived", arrival)
        if rng.random() < facility.reply_rate:
            if channel == "electronic":
                back = rng.randint(3, 15)  # the answer form is scanned
            else:
                back = rng.randint(5, 20) + round(median * rng.lognormvariate(0.0, sigma))
            add("reply", arrival + timedelta(days=back))
        elif not tracked and (today - sent_on).days >= 60 and rng.random() < 0.4:
            add(
                "no_news",
                sent_on + timedelta(days=rng.randint(60, min(100, (today - sent_on).days))),
            )

    quirk = rng.random()
    if quirk < 0.015 and len(events) > 1:  # reported twice, the second time a bit later
        kind, day, _, _, note = events[-1]
        duplicate = day + timedelta(days=rng.randint(0, 3))
        if duplicate <= today:
            events.append((kind, duplicate, None, None, note))
    elif quirk < 0.018 and len(events) > 1 and events[1][0] == "arrived":
        # A mistyped date: "arrived" before "sent".
        events[1] = ("arrived", sent_on - timedelta(days=rng.randint(1, 5)), None, None, "")
    elif quirk < 0.021 and len(events) > 1:
        del events[0]  # the writer reported the outcome but never the sending
    return events


def make_letters(
    rng: random.Random,
    prisoners: list[PrisonerPlan],
    event_target: int,
    templates: dict[str, list[int]],
    today: date,
    now: datetime,
) -> tuple[list[LetterPlan], int]:
    """Letters with their events until ``event_target`` events exist, oldest letter first.

    Returns the letters and the number of events.
    """
    window_start = today - timedelta(days=WINDOW_DAYS)
    # More letters lately (the project grows) and in December (New Year cards).
    day_weights = []
    for offset in range(WINDOW_DAYS + 1):
        day = window_start + timedelta(days=offset)
        weight = 0.6 + 0.8 * offset / WINDOW_DAYS
        if day.month == 12 and day.day >= 5:
            weight *= 2.0
        day_weights.append(weight)
    pick_day = weighted_picker(rng, day_weights)
    writers = [p for p in prisoners if p.stays and p.weight > 0]
    pick_writer = weighted_picker(rng, [p.weight for p in writers])

    letters: list[LetterPlan] = []
    total = 0
    while total < event_target:
        prisoner = writers[pick_writer()]
        chosen = None
        for _ in range(6):
            offset = pick_day()
            for stay in prisoner.stays:
                if stay[0] <= offset < stay[1]:
                    chosen = (offset, stay)
                    break
            if chosen:
                break
        if chosen is None:
            stay = rng.choice(prisoner.stays)
            chosen = (rng.randrange(stay[0], stay[1]), stay)
        offset, (_, _, facility, stay_end) = chosen
        sent_on = window_start + timedelta(days=offset)
        age = (today - sent_on).days
        unsent = rng.random() < (0.3 if age <= 10 else 0.03)
        events = [] if unsent else letter_events(rng, facility, stay_end, sent_on, today)
        if total + len(events) > event_target:
            events = events[: event_target - total]
        total += len(events)

        written = sent_on - timedelta(days=rng.choice((0, 0, 1, 1, 2, 3, 5)))
        created_at = datetime(written.year, written.month, written.day, rng.randint(7, 23),
                              rng.randint(0, 59), rng.randint(0, 59))  # fmt: skip
        created_at = min(created_at, now)
        english = rng.random() < 0.05
        if english:
            signature = rng.choice(demo.signatures_en)
            body = f"Hello,\n\n{rng.choice(demo.openers_en)}\n\n{rng.choice(demo.closings_en)}"
        else:
            signature = rng.choice(demo.signatures_ru)
            body = (
                f"Здравствуйте!\n\n{rng.choice(demo.openers_ru)}\n\n{rng.choice(demo.closings_ru)}"
            )
        language = "en" if english else "ru"
        pool = templates.get(language) or [None]
        template_id = rng.choice(pool) if rng.random() < 0.6 else None
        # The shape app/tokens.py makes (43 URL-safe characters), but reproducible.
        token = base64.urlsafe_b64encode(rng.randbytes(32)).rstrip(b"=").decode()
        letters.append(
            LetterPlan(
                created_at=created_at,
                prisoner_id=prisoner.id,
                facility_id=facility.id,
                token=token,
                language=language,
                body=f"{body}\n{signature}",
                signature=signature,
                template_id=template_id,
                events=events,
            )
        )
    letters.sort(key=lambda letter: (letter.created_at, letter.prisoner_id))
    return letters, total


def letter_batches(
    rng: random.Random, letters: list[LetterPlan], now: datetime
) -> Iterator[tuple[list[dict[str, Any]], list[dict[str, Any]]]]:
    """Rows for the ``letter`` and ``mail_event`` tables, a batch of letters at a time."""
    event_id = 0
    lags = (0, 0, 0, 1, 1, 2, 5, 14)
    for start in range(0, len(letters), BATCH_ROWS):
        letter_rows: list[dict[str, Any]] = []
        event_rows: list[dict[str, Any]] = []
        for letter_id, letter in enumerate(letters[start : start + BATCH_ROWS], start + 1):
            # Stored as the app stores them (privacy at rest): the link's keyed hash, the
            # content encrypted with the key from the link, times cut to the hour.
            keys = letter_keys(letter.token)
            key = keys.content_key
            letter_rows.append(
                {
                    "id": letter_id,
                    "token_hash": letter_link_hash(letter.token),
                    "public_key": keys.public_key,
                    "prisoner_id": letter.prisoner_id,
                    "template_id": letter.template_id,
                    "facility_id": letter.facility_id,
                    "kind": "letter",
                    "official_id": None,
                    "language": letter.language,
                    "body_encrypted": encrypt_field(key, letter.body, context="letter:body"),
                    "signature_encrypted": encrypt_field(
                        key, letter.signature, context="letter:signature"
                    ),
                    "sender_address_encrypted": None,
                    "organisers_key": None,
                    "drive_id": None,
                    "printed_at": None,
                    "created_at": kept_time(letter.created_at),
                }
            )
            for kind, day, channel, tracking, note in letter.events:
                event_id += 1
                reported = datetime(day.year, day.month, day.day, rng.randint(8, 23))
                reported += timedelta(days=rng.choice(lags), minutes=rng.randint(0, 59))
                event_rows.append(
                    {
                        "id": event_id,
                        "letter_id": letter_id,
                        "kind": kind,
                        "happened_on": day,
                        "reported_at": kept_time(min(reported, now)),
                        "channel": channel,
                        "tracking_number_encrypted": encrypt_field(
                            key, tracking, context="mail-event:tracking-number"
                        )
                        if tracking
                        else None,
                        "extension_days": None,
                        "note_encrypted": encrypt_field(key, note, context="mail-event:note")
                        if note
                        else None,
                    }
                )
        yield letter_rows, event_rows


def write_rows(connection: Any, table: Any, rows: list[dict[str, Any]]) -> None:
    """Insert rows in the connection's transaction: COPY on PostgreSQL, executemany on SQLite.

    COPY streams the rows in PostgreSQL's text format, several times faster than the
    multi-row INSERTs SQLAlchemy makes of an executemany. Values are what the model's columns
    store: enums as their values (the generator writes them as strings), JSON as its text.
    """
    from sqlalchemy import JSON

    if not rows:
        return
    if connection.dialect.name != "postgresql":
        connection.execute(table.insert(), rows)
        return
    quote = connection.dialect.identifier_preparer.quote
    columns = list(rows[0])
    statement = f"COPY {quote(table.name)} ({', '.join(quote(c) for c in columns)}) FROM STDIN"
    json_columns = {c for c in columns if isinstance(table.c[c].type, JSON)}
    cursor = connection.connection.driver_connection.cursor()
    with cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row([json.dumps(row[c]) if c in json_columns else row[c] for c in columns])


def insert_rows(engine: Any, table: Any, rows: list[dict[str, Any]]) -> None:
    """Insert rows, one transaction per batch."""
    for start in range(0, len(rows), BATCH_ROWS):
        with engine.begin() as connection:
            write_rows(connection, table, rows[start : start + BATCH_ROWS])


def advance_sequences(connection: Any, tables: Sequence[Any]) -> None:
    """On PostgreSQL, move each table's id sequence past the ids written here: COPY and
    explicit ids leave it at 1, and the app's next insert would collide with row 1."""
    if connection.dialect.name != "postgresql":
        return  # SQLite takes the next rowid after the largest one
    for table in tables:
        connection.exec_driver_sql(
            f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
            f"(SELECT max(id) FROM {connection.dialect.identifier_preparer.quote(table.name)}))"
        )


def _large_cache(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA cache_size = -524288")  # KiB: 512 MB
    cursor.close()


def _no_commit_wait(dbapi_connection: Any, _record: Any) -> None:
    # A lost last batch after a crash costs nothing here: the run is started again.
    cursor = dbapi_connection.cursor()
    cursor.execute("SET synchronous_commit = off")
    cursor.close()
    dbapi_connection.commit()


def prepare_instance(folder: Path, force: bool) -> None:
    """Refuse to touch an existing database unless asked; then remove its files."""
    database = folder / "konvert.db"
    if database.exists() and not force:
        sys.exit(f"{database} exists: pass --force to replace it, or choose another --instance")
    for name in ("konvert.db", "konvert.db-wal", "konvert.db-shm", DEMO_MARKER):
        (folder / name).unlink(missing_ok=True)
    folder.mkdir(parents=True, exist_ok=True)


def prepare_postgres(url: str, folder: Path, force: bool) -> None:
    """Refuse to touch a PostgreSQL database that has tables unless asked; then empty it (its
    schema dropped and made again) and the instance folder's marker."""
    from sqlalchemy import create_engine, inspect

    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            tables = inspect(connection).get_table_names()
            if tables and not force:
                sys.exit(
                    f"the database {engine.url.render_as_string(hide_password=True)} has "
                    f"{len(tables)} tables: pass --force to replace them"
                )
            if tables:
                connection.exec_driver_sql("DROP SCHEMA public CASCADE")
                connection.exec_driver_sql("CREATE SCHEMA public")
    finally:
        engine.dispose()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / DEMO_MARKER).unlink(missing_ok=True)


def main() -> None:
    """Build the data set and print what was made and how long it took."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--instance", type=Path, default=DEFAULT_INSTANCE)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--prisoners", type=int, default=10_000)
    parser.add_argument("--facilities", type=int, default=300)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--today", type=date.fromisoformat, default=None)
    parser.add_argument("--force", action="store_true", help="replace an existing database")
    parser.add_argument(
        "--database-url",
        default=None,
        help="write into this PostgreSQL database (postgresql+psycopg://…) instead of the "
        "instance folder's SQLite file; needs KONVERT_SECRET_KEY, as the server will",
    )
    args = parser.parse_args()

    started = time.perf_counter()
    folder = args.instance.resolve()
    if args.database_url:
        if not args.database_url.startswith("postgresql"):
            sys.exit("--database-url takes a PostgreSQL URL (postgresql+psycopg://…)")
        prepare_postgres(args.database_url, folder, args.force)
        database_url = args.database_url
    else:
        prepare_instance(folder, args.force)
        database_url = f"sqlite:///{folder / 'konvert.db'}"
    now = datetime.now(UTC).replace(tzinfo=None)
    today = args.today or min(date.today(), now.date())
    if args.today:
        now = datetime(today.year, today.month, today.day, 23, 59)
    rng = random.Random(args.seed)  # reproducible, not for secrets

    from flask_migrate import upgrade
    from sqlalchemy import event, func, select, text

    from app import create_app
    from app.appeals.federal import sync_federal_officials
    from app.extensions import db
    from app.library.services import sync_templates
    from app.models import (
        Facility,
        Letter,
        LetterOutcome,
        MailEvent,
        Placement,
        Prisoner,
        Template,
        TemplateKind,
    )
    from app.stats.outcomes import rebuild_all_outcomes
    from app.stats.overview import refresh_overview_now
    from app.stats.services import precompute_facility_figures

    app = create_app(
        "default",
        {
            "INSTANCE_PATH": str(folder),
            "SQLALCHEMY_DATABASE_URI": database_url,
        },
    )
    postgres = not database_url.startswith("sqlite")
    with app.app_context():
        upgrade()
        # What scripts/run.sh does before serving, so the composer has its templates.
        sync_templates(Path(app.config["LETTERS_DIR"]))
        sync_federal_officials()
        db.session.commit()
        templates: dict[str, list[int]] = {}
        for template in db.session.scalars(
            select(Template).where(Template.kind == TemplateKind.LETTER, ~Template.retired)
        ):
            templates.setdefault(template.language, []).append(template.id)
        db.session.remove()
        log(started, f"migrated and synced the library in {folder}")

        engine = db.engine
        engine.dispose()
        if postgres:
            event.listen(engine, "connect", _no_commit_wait)
        else:
            # A large page cache for the load: inserting half a million random tokens into the
            # unique index otherwise rereads index pages from disk all the time.
            event.listen(engine, "connect", _large_cache)
        facility_rows, facility_plans = make_facilities(rng, args.facilities, now)
        prisoner_rows, placement_rows, prisoner_plans = make_prisoners(
            rng, args.prisoners, facility_plans, today, now
        )
        insert_rows(engine, Facility.__table__, facility_rows)
        insert_rows(engine, Prisoner.__table__, prisoner_rows)
        insert_rows(engine, Placement.__table__, placement_rows)
        log(
            started,
            f"{len(facility_rows)} facilities, {len(prisoner_rows)} prisoners, "
            f"{len(placement_rows)} placements",
        )

        letters, event_count = make_letters(
            rng, prisoner_plans, args.events, templates, today, now
        )
        log(started, f"planned {len(letters)} letters with {event_count} events")
        done = 0
        for letter_rows, event_rows in letter_batches(rng, letters, now):
            with engine.begin() as connection:
                write_rows(connection, Letter.__table__, letter_rows)
                write_rows(connection, MailEvent.__table__, event_rows)
            done += len(letter_rows)
            if done % (BATCH_ROWS * 5) == 0 or done == len(letters):
                log(started, f"inserted {done} letters")
        del letters

        with engine.begin() as connection:
            advance_sequences(
                connection,
                [m.__table__ for m in (Facility, Prisoner, Placement, Letter, MailEvent)],
            )
            # The migrations' ix_mail_event_letter_kind_happened makes the rebuild's "channel of
            # the first sent report" one seek per letter; ANALYZE lets the planner know it
            # (PostgreSQL plans the rebuild with statistics, SQLite then serves with them).
            if postgres:
                connection.exec_driver_sql("ANALYZE")
            outcomes = rebuild_all_outcomes(connection)
            connection.exec_driver_sql("ANALYZE")
        if postgres:
            # Rows written by COPY are not yet marked visible to all in the visibility map, so
            # index-only scans would still read the table, and the first readers would set
            # hint bits (writes) while the benchmark runs: VACUUM does both now, and FREEZE
            # saves the anti-wraparound pass autovacuum would otherwise start later.
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.exec_driver_sql("VACUUM (FREEZE, ANALYZE)")
        log(started, f"rebuilt {outcomes} letter outcomes and analysed the tables")
        # What `flask stats rebuild` does after a bulk load: the overview and the facility
        # figures are stored before the first reader comes, as the background jobs keep them.
        refresh_overview_now(date.today())
        facilities = precompute_facility_figures(date.today())
        log(started, f"computed the overview and the figures of {facilities} facilities")
        (folder / DEMO_MARKER).touch()

        with engine.connect() as connection:
            counts = {
                name: connection.scalar(select(func.count()).select_from(model.__table__))
                for name, model in (
                    ("facilities", Facility),
                    ("prisoners", Prisoner),
                    ("placements", Placement),
                    ("letters", Letter),
                    ("mail events", MailEvent),
                    ("letter outcomes", LetterOutcome),
                )
            }
            counts["in transit now"] = connection.scalar(
                select(func.count())
                .select_from(Placement.__table__)
                .where(Placement.ended_on.is_(None), Placement.facility_id.is_(None))
            )
            counts["regions"] = connection.scalar(
                select(func.count(func.distinct(Facility.region)))
            )
            if postgres:
                size = connection.scalar(text("SELECT pg_database_size(current_database())"))
            else:
                connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
                size = (folder / "konvert.db").stat().st_size
        engine.dispose()

    size_mb = (size or 0) / 1024 / 1024
    print("\n".join(f"  {name:>16}: {value}" for name, value in counts.items()))
    print(f"  {'database':>16}: {size_mb:.0f} MB")
    log(started, f"done: {folder}")


if __name__ == "__main__":
    main()
