"""The fictional demo data set as plain Python structures (no database, no Flask).

All people, case details and street addresses are invented. Facility names follow the official
pattern and postcodes are realistic for the towns, so envelopes and statistics look real.

Dates that must stay recent (placements, detention) are given in days before "today", so the
data set looks the same whenever it is loaded; birth dates are absolute.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from app.models.facility import FacilityKind
from app.models.official import Jurisdiction, OfficialKind


@dataclass(frozen=True)
class MailProfile:
    """How mail behaves at a facility: the skew the statistics pages should show."""

    arrival_days: tuple[int, int]  # ordinary post, sent -> arrived, inclusive range
    reply_rate: float
    withheld_rate: float
    returned_rate: float


@dataclass(frozen=True)
class FacilityData:
    """One invented institution with a realistic official name and postcode."""

    key: str
    code: str
    name: str
    kind: FacilityKind
    region: str
    postcode: str
    locality: str
    street_address: str
    mail: MailProfile
    electronic_services: str = ""
    mail_rules: str = ""

    @property
    def external_id(self) -> str:
        """The stable id that makes loading idempotent."""
        return f"demo-f-{self.key}"


@dataclass(frozen=True)
class PlacementData:
    """A stay in a facility (``facility`` is a FacilityData key) or in transit (None).

    Days are counted back from today; ``end_ago`` None means the placement is still open.
    A placement covers the days ``start`` <= day < ``end``.
    """

    facility: str | None
    start_ago: int
    end_ago: int | None = None
    note: str = ""


@dataclass(frozen=True)
class PrisonerData:
    """One invented prisoner with a placement history, oldest placement first."""

    key: str
    last_name: str
    first_name: str
    patronymic: str | None
    gender: str  # "m" or "f"
    status: str  # a PrisonerStatus value
    placements: tuple[PlacementData, ...]
    case_summary: str
    detained_ago: int | None
    birth_date: date | None = None
    birth_year: int | None = None
    sentence: str = ""
    languages: str = "ru"
    interests: str = ""
    notes_for_writers: str = ""
    last_name_latin: str | None = None
    first_name_latin: str | None = None
    name_overrides: dict[str, str] = field(default_factory=dict)
    accepts_letters: bool = True
    weight: int = 1  # how popular with writers: relative share of the demo letters
    quiet: bool = False  # no letters in the last three months

    @property
    def external_id(self) -> str:
        """The stable id that makes loading idempotent."""
        return f"demo-p-{self.key}"


# Far-away colonies are slow and answer rarely; Moscow pre-trial centres read letters slowly
# (the investigator reads them too) and withhold more often.
_NEAR = MailProfile((7, 16), 0.45, 0.05, 0.02)
_SIZO = MailProfile((10, 25), 0.30, 0.10, 0.02)
_MIDDLE = MailProfile((10, 24), 0.35, 0.06, 0.03)
_REMOTE = MailProfile((18, 40), 0.18, 0.10, 0.05)

FACILITIES: tuple[FacilityData, ...] = (
    FacilityData(
        key="msk-sizo1",
        code="СИЗО-1",
        name="ФКУ СИЗО-1 УФСИН России по г. Москве",
        kind=FacilityKind.PRETRIAL,
        region="г. Москва",
        postcode="107076",
        locality="г. Москва",
        street_address="ул. Тихая, д. 18",
        mail=_SIZO,
        electronic_services="ФСИН-письмо",
        mail_rules="Письма читает цензор и следователь; ответ обычно приходит через 4–6 недель.",
    ),
    FacilityData(
        key="msk-sizo5",
        code="СИЗО-5",
        name="ФКУ СИЗО-5 УФСИН России по г. Москве",
        kind=FacilityKind.PRETRIAL,
        region="г. Москва",
        postcode="125130",
        locality="г. Москва",
        street_address="ул. Речная, д. 5",
        mail=_SIZO,
        electronic_services="ФСИН-письмо",
    ),
    FacilityData(
        key="msk-sizo6",
        code="СИЗО-6",
        name="ФКУ СИЗО-6 УФСИН России по г. Москве",
        kind=FacilityKind.PRETRIAL,
        region="г. Москва",
        postcode="109383",
        locality="г. Москва",
        street_address="ул. Полевая, д. 3",
        mail=_SIZO,
        electronic_services="ФСИН-письмо",
        mail_rules="Женский следственный изолятор. Можно вложить до трёх фотографий.",
    ),
    FacilityData(
        key="spb-sizo1",
        code="СИЗО-1",
        name="ФКУ СИЗО-1 УФСИН России по г. Санкт-Петербургу и Ленинградской области",
        kind=FacilityKind.PRETRIAL,
        region="г. Санкт-Петербург",
        postcode="195009",
        locality="г. Санкт-Петербург",
        street_address="наб. Лесная, д. 3",
        mail=_SIZO,
        electronic_services="ФСИН-письмо",
    ),
    FacilityData(
        key="sverdl-sizo1",
        code="СИЗО-1",
        name="ФКУ СИЗО-1 ГУФСИН России по Свердловской области",
        kind=FacilityKind.PRETRIAL,
        region="Свердловская область",
        postcode="620089",
        locality="г. Екатеринбург",
        street_address="ул. Заводская, д. 40",
        mail=_SIZO,
        electronic_services="ФСИН-письмо",
    ),
    FacilityData(
        key="rostov-sizo4",
        code="СИЗО-4",
        name="ФКУ СИЗО-4 ГУФСИН России по Ростовской области",
        kind=FacilityKind.PRETRIAL,
        region="Ростовская область",
        postcode="346400",
        locality="г. Новочеркасск",
        street_address="ул. Степная, д. 21",
        mail=_SIZO,
        electronic_services="ФСИН-письмо",
    ),
    FacilityData(
        key="vlad-ik6",
        code="ИК-6",
        name="ФКУ ИК-6 УФСИН России по Владимирской области",
        kind=FacilityKind.COLONY,
        region="Владимирская область",
        postcode="601120",
        locality="г. Покров",
        street_address="ул. Ленина, д. 12",
        mail=_NEAR,
        electronic_services="ФСИН-письмо, Зонателеком",
        mail_rules="Электронные письма распечатывают раз в день; бланк ответа сканируют "
        "в течение недели.",
    ),
    FacilityData(
        key="vlad-t2",
        code="Т-2",
        name="ФКУ Т-2 УФСИН России по Владимирской области",
        kind=FacilityKind.PRISON,
        region="Владимирская область",
        postcode="600020",
        locality="г. Владимир",
        street_address="ул. Каменная, д. 7",
        mail=MailProfile((8, 20), 0.30, 0.12, 0.03),
        electronic_services="ФСИН-письмо",
        mail_rules="Тюремный режим: число писем не ограничено, но цензура строгая.",
    ),
    FacilityData(
        key="mord-ik2",
        code="ИК-2",
        name="ФКУ ИК-2 УФСИН России по Республике Мордовия",
        kind=FacilityKind.COLONY,
        region="Республика Мордовия",
        postcode="431160",
        locality="пос. Явас",
        street_address="ул. Советская, д. 9",
        mail=_MIDDLE,
        electronic_services="Зонателеком",
        mail_rules="Женская колония. Открытки и рисунки доходят; марки для ответа лучше "
        "вкладывать в письмо.",
    ),
    FacilityData(
        key="komi-ik49",
        code="ИК-49",
        name="ФКУ ИК-49 УФСИН России по Республике Коми",
        kind=FacilityKind.COLONY,
        region="Республика Коми",
        postcode="169600",
        locality="г. Печора",
        street_address="ул. Северная, д. 2",
        mail=_REMOTE,
        mail_rules="Удалённая колония: письма идут до шести недель, зимой дольше.",
    ),
    FacilityData(
        key="yanao-ik8",
        code="ИК-8",
        name="ФКУ ИК-8 УФСИН России по Ямало-Ненецкому автономному округу",
        kind=FacilityKind.COLONY,
        region="Ямало-Ненецкий автономный округ",
        postcode="629420",
        locality="пос. Харп",
        street_address="ул. Набережная, д. 1",
        mail=MailProfile((22, 40), 0.15, 0.14, 0.06),
        mail_rules="Колония за Полярным кругом; почта приходит с большими перерывами.",
    ),
    FacilityData(
        key="krsk-ik17",
        code="ИК-17",
        name="ФКУ ИК-17 ГУФСИН России по Красноярскому краю",
        kind=FacilityKind.COLONY,
        region="Красноярский край",
        postcode="662600",
        locality="г. Минусинск",
        street_address="ул. Промышленная, д. 11",
        mail=_REMOTE,
        electronic_services="Зонателеком",
    ),
    FacilityData(
        key="nn-liu3",
        code="ЛИУ-3",
        name="ФКУ ЛИУ-3 ГУФСИН России по Нижегородской области",
        kind=FacilityKind.HOSPITAL,
        region="Нижегородская область",
        postcode="603014",
        locality="г. Нижний Новгород",
        street_address="ул. Заречная, д. 9",
        mail=_MIDDLE,
        mail_rules="Лечебное учреждение; посылки только по согласованию, письма без ограничений.",
    ),
    FacilityData(
        key="perm-ik10",
        code="ИК-10",
        name="ФКУ ИК-10 ГУФСИН России по Пермскому краю",
        kind=FacilityKind.COLONY,
        region="Пермский край",
        postcode="618540",
        locality="г. Соликамск",
        street_address="ул. Лесная, д. 30",
        mail=MailProfile((12, 28), 0.30, 0.08, 0.04),
        electronic_services="ФСИН-письмо",
    ),
    FacilityData(
        key="sverdl-ik53",
        code="ИК-53",
        name="ФКУ ИК-53 ГУФСИН России по Свердловской области",
        kind=FacilityKind.COLONY,
        region="Свердловская область",
        postcode="624380",
        locality="г. Верхотурье",
        street_address="ул. Мира, д. 4",
        mail=_MIDDLE,
        electronic_services="ФСИН-письмо",
    ),
    FacilityData(
        key="sar-ik33",
        code="ИК-33",
        name="ФКУ ИК-33 УФСИН России по Саратовской области",
        kind=FacilityKind.COLONY,
        region="Саратовская область",
        postcode="413100",
        locality="г. Энгельс",
        street_address="ул. Строителей, д. 15",
        mail=_MIDDLE,
        electronic_services="ФСИН-письмо",
        mail_rules="Письма на иностранном языке задерживают для перевода.",
    ),
    FacilityData(
        key="tver-kp8",
        code="КП-8",
        name="ФКУ КП-8 УФСИН России по Тверской области",
        kind=FacilityKind.SETTLEMENT,
        region="Тверская область",
        postcode="172002",
        locality="г. Торжок",
        street_address="ул. Луговая, д. 6",
        mail=_NEAR,
    ),
)


def _history(*parts: tuple[str | None, int, int | None]) -> tuple[PlacementData, ...]:
    """Placements from (facility key or None, start days ago, end days ago) triples."""
    return tuple(
        PlacementData(
            facility=key,
            start_ago=start,
            end_ago=end,
            note="Этап" if key is None else "",
        )
        for key, start, end in parts
    )


_KARA_MURZA_FORMS = {
    "genitive": "Кара-Мурзы Ксении Андреевны",
    "dative": "Кара-Мурзе Ксении Андреевне",
    "accusative": "Кара-Мурзу Ксению Андреевну",
    "instrumental": "Кара-Мурзой Ксенией Андреевной",
    "prepositional": "Кара-Мурзе Ксении Андреевне",
}

_KHAN_GIREY_FORMS = {
    "genitive": "Хан-Гирея Тимура Руслановича",
    "dative": "Хан-Гирею Тимуру Руслановичу",
    "accusative": "Хан-Гирея Тимура Руслановича",
    "instrumental": "Хан-Гиреем Тимуром Руслановичем",
    "prepositional": "Хан-Гирее Тимуре Руслановиче",
}

IN_TRANSIT_SINCE_DAYS = 21

PRISONERS: tuple[PrisonerData, ...] = (
    PrisonerData(
        key="gorelov",
        last_name="Горелов",
        first_name="Михаил",
        patronymic="Андреевич",
        gender="m",
        status="convicted",
        birth_date=date(1978, 3, 14),
        detained_ago=982,
        placements=_history(("msk-sizo1", 980, 610), (None, 610, 585), ("vlad-ik6", 585, None)),
        case_summary="Осуждён за «распространение заведомо ложной информации» об армии: "
        "пересказал в районном сообществе новости зарубежных изданий.",
        sentence="6 лет колонии общего режима",
        interests="шахматы, история Древнего Рима, огородничество",
        notes_for_writers="Отвечает почти на каждое письмо. Любит открытки с видами городов "
        "и рассказы о путешествиях.",
        weight=3,
    ),
    PrisonerData(
        key="safonova",
        last_name="Сафонова",
        first_name="Ирина",
        patronymic="Викторовна",
        gender="f",
        status="convicted",
        birth_year=1985,
        detained_ago=823,
        placements=_history(("spb-sizo1", 820, 430), (None, 430, 405), ("mord-ik2", 405, None)),
        case_summary="Осуждена за «оправдание терроризма» из-за комментария "
        "под записью в телеграм-канале.",
        sentence="5 лет колонии общего режима",
        interests="вязание, акварель, детская литература",
        notes_for_writers="Просит писать о природе и животных; очень радуется рисункам.",
        weight=2,
    ),
    PrisonerData(
        key="kara-murza",
        last_name="Кара-Мурза",
        first_name="Ксения",
        patronymic="Андреевна",
        gender="f",
        status="pretrial",
        birth_date=date(1991, 6, 9),
        detained_ago=152,
        placements=_history(("msk-sizo6", 150, None)),
        case_summary="Обвиняется в «участии в деятельности нежелательной организации» "
        "за перевод статей для просветительского сайта.",
        languages="ru,en",
        interests="английская поэзия, настольные игры, бег",
        notes_for_writers="Первая часть фамилии не склоняется: на конверте "
        "«Кара-Мурзе Ксении Андреевне».",
        name_overrides=_KARA_MURZA_FORMS,
        weight=2,
    ),
    PrisonerData(
        key="khan-girey",
        last_name="Хан-Гирей",
        first_name="Тимур",
        patronymic="Русланович",
        gender="m",
        status="convicted",
        birth_date=date(1983, 1, 27),
        detained_ago=703,
        placements=_history(
            ("sverdl-sizo1", 700, 380), (None, 380, 360), ("perm-ik10", 360, None)
        ),
        case_summary="Осуждён за «призывы к экстремистской деятельности»: "
        "распространял открытое письмо против мобилизации.",
        sentence="4 года колонии общего режима",
        interests="горный туризм, история Кавказа, кулинария",
        notes_for_writers="Склоняется только вторая часть фамилии: на конверте "
        "«Хан-Гирею Тимуру Руслановичу».",
        name_overrides=_KHAN_GIREY_FORMS,
        weight=2,
    ),
    PrisonerData(
        key="morozova-klyuchevskaya",
        last_name="Морозова-Ключевская",
        first_name="Ирина",
        patronymic="Львовна",
        gender="f",
        status="convicted",
        birth_year=1969,
        detained_ago=300,
        placements=_history(("tver-kp8", 300, None)),
        case_summary="Осуждена за «повторную дискредитацию» армии: "
        "одиночный пикет с чистым листом бумаги.",
        sentence="2 года 6 месяцев колонии-поселения",
        interests="театр, садоводство, классическая музыка",
        notes_for_writers="Учительница музыки на пенсии. Любит длинные письма "
        "и вопросы о любимых композиторах.",
        weight=1,
    ),
    PrisonerData(
        key="volkov-lanskoy",
        last_name="Волков-Ланской",
        first_name="Андрей",
        patronymic="Сергеевич",
        gender="m",
        status="pretrial",
        birth_date=date(1996, 9, 30),
        detained_ago=212,
        placements=_history(("spb-sizo1", 210, None)),
        case_summary="Обвиняется в «государственной измене» за небольшое пожертвование "
        "благотворительному фонду за границей.",
        languages="ru,en",
        interests="программирование, велосипед, научная фантастика",
        notes_for_writers="Читает по-английски, но письма по-русски доходят быстрее.",
        weight=2,
    ),
    PrisonerData(
        key="gasanov",
        last_name="Гасанов",
        first_name="Тофиг",
        patronymic="Ильхам оглы",
        gender="m",
        status="convicted",
        birth_year=1990,
        detained_ago=762,
        placements=_history(("rostov-sizo4", 760, 450), (None, 450, 430), ("sar-ik33", 430, None)),
        case_summary="Осуждён за «вандализм по мотивам политической ненависти»: "
        "надпись «Нет войне» на автобусной остановке.",
        sentence="3 года колонии общего режима",
        interests="футбол, азербайджанская кухня, нарды",
        notes_for_writers="Пишите просто и разборчиво; очень ждёт писем о футболе.",
        last_name_latin="Hasanov",
        first_name_latin="Tofig",
        weight=1,
    ),
    PrisonerData(
        key="mamedova",
        last_name="Мамедова",
        first_name="Лейла",
        patronymic="Ариф кызы",
        gender="f",
        status="pretrial",
        birth_date=date(1993, 4, 18),
        detained_ago=121,
        placements=_history(("rostov-sizo4", 120, None)),
        case_summary="Обвиняется в «распространении заведомо ложной информации» об армии "
        "за видео в соцсетях.",
        interests="фотография, йога, восточная поэзия",
        notes_for_writers="В следственном изоляторе письма читает и следователь, поэтому "
        "ответ может задержаться.",
        last_name_latin="Mammadova",
        first_name_latin="Leyla",
        weight=1,
    ),
    PrisonerData(
        key="garipov",
        last_name="Гарипов",
        first_name="Ильдар",
        patronymic="Ринатович",
        gender="m",
        status="convicted",
        birth_date=date(1988, 7, 2),
        detained_ago=641,
        placements=_history(
            ("sverdl-sizo1", 640, 300), (None, 300, 280), ("sverdl-ik53", 280, None)
        ),
        case_summary="Осуждён за «дискредитацию» армии и «оправдание терроризма» "
        "по совокупности публикаций в интернете.",
        sentence="5 лет 6 месяцев колонии общего режима",
        interests="татарская литература, рыбалка, столярное дело",
        notes_for_writers="Любит загадки и кроссворды: можно вложить лист с кроссвордом.",
        weight=2,
    ),
    PrisonerData(
        key="khabibullina",
        last_name="Хабибуллина",
        first_name="Алсу",
        patronymic="Рамилевна",
        gender="f",
        status="convicted",
        birth_year=1995,
        detained_ago=562,
        placements=_history(("msk-sizo6", 560, 330), (None, 330, 305), ("mord-ik2", 305, None)),
        case_summary="Осуждена за «содействие экстремистской деятельности» "
        "из-за пожертвования в сетевой сбор.",
        sentence="4 года колонии общего режима",
        interests="рисование, татарские песни, психология",
        notes_for_writers="Очень радуется рисункам и открыткам ручной работы.",
        weight=2,
    ),
    PrisonerData(
        key="kovalenko",
        last_name="Коваленко",
        first_name="Оксана",
        patronymic="Петровна",
        gender="f",
        status="convicted",
        birth_date=date(1979, 12, 1),
        detained_ago=903,
        placements=_history(("rostov-sizo4", 900, 520), (None, 520, 490), ("mord-ik2", 490, None)),
        case_summary="Гражданка Украины; осуждена по обвинению в «шпионаже» после задержания "
        "на пограничном пункте.",
        sentence="12 лет колонии общего режима",
        languages="ru,uk",
        interests="вышивка, цветы, кулинария",
        notes_for_writers="Пишите по-русски: письма на украинском языке задерживают для перевода.",
        last_name_latin="Kovalenko",
        first_name_latin="Oksana",
        weight=1,
    ),
    PrisonerData(
        key="weiss",
        last_name="Вайс",
        first_name="Томас",
        patronymic=None,
        gender="m",
        status="convicted",
        birth_year=1971,
        detained_ago=622,
        placements=_history(("msk-sizo5", 620, 260), (None, 260, 240), ("vlad-t2", 240, None)),
        case_summary="Гражданин Германии; осуждён за «контрабанду» из-за нескольких таблеток "
        "лекарства в багаже.",
        sentence="3 года 6 месяцев лишения свободы, из них 2 года в тюрьме",
        languages="ru,en",
        interests="джаз, история железных дорог, немецкая литература",
        notes_for_writers="По-русски читает медленно; короткие письма на простом английском "
        "доходят, но могут задерживаться для перевода.",
        last_name_latin="Weiss",
        first_name_latin="Thomas",
        weight=2,
    ),
    PrisonerData(
        key="green",
        last_name="Грин",
        first_name="Элизабет",
        patronymic=None,
        gender="f",
        status="pretrial",
        birth_year=1983,
        detained_ago=201,
        placements=_history(("msk-sizo6", 200, None)),
        case_summary="Гражданка Великобритании; обвиняется в «шпионаже» после задержания "
        "во время туристической поездки.",
        languages="ru,en",
        interests="бег, садоводство, детективы Агаты Кристи",
        notes_for_writers="Учит русский язык и будет рада простым письмам по-русски.",
        last_name_latin="Green",
        first_name_latin="Elizabeth",
        weight=2,
    ),
    PrisonerData(
        key="chernykh",
        last_name="Черных",
        first_name="Юлия",
        patronymic="Андреевна",
        gender="f",
        status="convicted",
        birth_date=date(1992, 11, 5),
        detained_ago=502,
        placements=_history(("sverdl-sizo1", 500, 260), (None, 260, 235), ("mord-ik2", 235, None)),
        case_summary="Осуждена за «дискредитацию» армии: антивоенные листовки "
        "в почтовых ящиках соседей.",
        sentence="3 года колонии общего режима",
        interests="кино, вегетарианская кухня, английский язык",
        notes_for_writers="Любит, когда рассказывают о фильмах и книгах.",
        weight=2,
    ),
    PrisonerData(
        key="sedykh",
        last_name="Седых",
        first_name="Антон",
        patronymic="Игоревич",
        gender="m",
        status="convicted",
        birth_date=date(1999, 2, 11),
        detained_ago=722,
        placements=_history(
            ("sverdl-sizo1", 720, 420),
            (None, 420, 400),
            ("sverdl-ik53", 400, 160),
            (None, 160, 140),
            ("yanao-ik8", 140, None),
        ),
        case_summary="Осуждён за «публичные призывы к терроризму» из-за сообщения в чате, "
        "которое он считал шуткой.",
        sentence="6 лет колонии строгого режима",
        interests="рок-музыка, гитара, компьютерные игры",
        notes_for_writers="Колония очень далеко, письма идут больше месяца. Пишите регулярно, "
        "не дожидаясь ответа.",
        weight=2,
    ),
    PrisonerData(
        key="tsoy",
        last_name="Цой",
        first_name="Артём",
        patronymic="Вадимович",
        gender="m",
        status="pretrial",
        birth_date=date(2001, 8, 23),
        detained_ago=262,
        placements=_history(("msk-sizo5", 260, None)),
        case_summary="Обвиняется в «участии в террористическом сообществе» по делу "
        "о переписке в мессенджере.",
        languages="ru,en",
        interests="корейская кухня, баскетбол, мультфильмы",
        notes_for_writers="Радуется письмам о спорте и кулинарных рецептах.",
        weight=2,
    ),
    PrisonerData(
        key="kim",
        last_name="Ким",
        first_name="Виктория",
        patronymic="Сергеевна",
        gender="f",
        status="pretrial",
        birth_year=1997,
        detained_ago=92,
        placements=_history(("msk-sizo6", 90, None)),
        case_summary="Обвиняется в «реабилитации нацизма» за запись с историческими фотографиями.",
        interests="история, фортепиано, собаки",
        notes_for_writers="Задержана недавно; писем пока приходит мало.",
        weight=1,
    ),
    PrisonerData(
        key="melnik",
        last_name="Мельник",
        first_name="Богдан",
        patronymic="Степанович",
        gender="m",
        status="convicted",
        birth_year=1974,
        detained_ago=1103,
        placements=_history(("msk-sizo1", 1100, 700), (None, 700, 670), ("komi-ik49", 670, None)),
        case_summary="Осуждён за «государственную измену» после телефонных разговоров "
        "с родственниками в Житомире.",
        sentence="14 лет колонии строгого режима",
        interests="пчеловодство, рыбалка, народные песни",
        notes_for_writers="Отвечает редко, колония удалённая, но письма он получает.",
        weight=1,
    ),
    PrisonerData(
        key="zaytseva",
        last_name="Зайцева",
        first_name="Любовь",
        patronymic="Павловна",
        gender="f",
        status="convicted",
        birth_date=date(1958, 5, 20),
        detained_ago=640,
        placements=_history(("mord-ik2", 600, 180), (None, 180, 175), ("nn-liu3", 175, None)),
        case_summary="Пенсионерка; осуждена за «дискредитацию» армии после разговора "
        "с соседкой в очереди.",
        sentence="2 года колонии общего режима",
        interests="огород, кроссворды, народные праздники",
        notes_for_writers="Сейчас в больнице. Пишите спокойно и тепло, о доме и о природе.",
        weight=2,
    ),
    PrisonerData(
        key="kudryavtsev",
        last_name="Кудрявцев",
        first_name="Лев",
        patronymic="Ильич",
        gender="m",
        status="convicted",
        birth_year=1964,
        detained_ago=1302,
        placements=_history(("msk-sizo1", 1300, 900), (None, 900, 870), ("krsk-ik17", 870, None)),
        case_summary="Осуждён за «оправдание терроризма» за статью в районной газете.",
        sentence="7 лет колонии строгого режима",
        interests="краеведение, шахматы, Пушкин",
        notes_for_writers="Пишет обстоятельные ответы, но писем ему давно не было.",
        weight=1,
        quiet=True,
    ),
    PrisonerData(
        key="belykh",
        last_name="Белых",
        first_name="Марина",
        patronymic="Олеговна",
        gender="f",
        status="released",
        birth_year=1990,
        detained_ago=561,
        placements=_history(("spb-sizo1", 560, 380), (None, 380, 370), ("tver-kp8", 370, 45)),
        case_summary="Отбыла срок за «дискредитацию» армии и освобождена.",
        sentence="1 год 6 месяцев колонии-поселения",
        interests="йога, путешествия, кошки",
        notes_for_writers="Освобождена; писать в учреждение больше не нужно.",
        accepts_letters=False,
        weight=1,
    ),
    PrisonerData(
        key="durnovo",
        last_name="Дурново",
        first_name="Пётр",
        patronymic="Аркадьевич",
        gender="m",
        status="convicted",
        birth_year=1980,
        detained_ago=822,
        placements=_history(("msk-sizo1", 820, 470), (None, 470, 450), ("perm-ik10", 450, None)),
        case_summary="Осуждён за «призывы к экстремистской деятельности» из-за стихов, "
        "прочитанных на открытом микрофоне.",
        sentence="5 лет колонии общего режима",
        interests="поэзия Серебряного века, философия, бег",
        notes_for_writers="Любит, когда ему присылают стихи.",
        weight=1,
        quiet=True,
    ),
    PrisonerData(
        key="golovach",
        last_name="Головач",
        first_name="Светлана",
        patronymic="Викторовна",
        gender="f",
        status="pretrial",
        birth_year=1987,
        detained_ago=312,
        placements=_history(("rostov-sizo4", 310, None)),
        case_summary="Учительница; обвиняется в «распространении заведомо ложной информации» "
        "об армии за разговор с учениками.",
        interests="педагогика, лыжи, авторская песня",
        notes_for_writers="Любит письма от учителей и рассказы о детях.",
        weight=1,
    ),
    PrisonerData(
        key="solovyov",
        last_name="Соловьёв",
        first_name="Егор",
        patronymic="Максимович",
        gender="m",
        status="convicted",
        birth_date=date(2003, 10, 12),
        detained_ago=541,
        placements=_history(("msk-sizo1", 540, 250), (None, 250, 230), ("vlad-ik6", 230, None)),
        case_summary="Студент; осуждён за «оправдание терроризма» из-за репоста в соцсети.",
        sentence="4 года колонии общего режима",
        interests="математика, футбол, рэп",
        notes_for_writers="Очень радуется письмам о студенческой жизни и задачам по математике.",
        weight=3,
    ),
    PrisonerData(
        key="prokhorov",
        last_name="Прохоров",
        first_name="Денис",
        patronymic="Олегович",
        gender="m",
        status="in_transit",
        birth_date=date(1986, 2, 8),
        detained_ago=722,
        placements=(
            PlacementData("msk-sizo1", 720, 450),
            PlacementData(None, 450, 430, "Этап"),
            PlacementData("vlad-ik6", 430, IN_TRANSIT_SINCE_DAYS),
            PlacementData(None, IN_TRANSIT_SINCE_DAYS, None, "Этап, местонахождение неизвестно"),
        ),
        case_summary="Осуждён за «дискредитацию» армии после выступления на собрании жильцов.",
        sentence="4 года колонии общего режима",
        interests="радиолюбительство, походы, история авиации",
        notes_for_writers="Этапирован из колонии во Владимирской области; новое место пока "
        "неизвестно. Подождите с письмами, пока не появится адрес.",
        weight=2,
    ),
    PrisonerData(
        key="andreev",
        last_name="Андреев",
        first_name="Павел",
        patronymic="Николаевич",
        gender="m",
        status="convicted",
        birth_year=1975,
        detained_ago=903,
        placements=_history(
            ("sverdl-sizo1", 900, 530), (None, 530, 500), ("yanao-ik8", 500, None)
        ),
        case_summary="Осуждён за «государственную измену» из-за пожертвования иностранному фонду.",
        sentence="13 лет колонии строгого режима",
        interests="охота и рыбалка, радиотехника, детективы",
        notes_for_writers="Писем ему приходит очень мало — напишите хотя бы открытку.",
        weight=1,
        quiet=True,
    ),
    PrisonerData(
        key="fomina",
        last_name="Фомина",
        first_name="Анастасия",
        patronymic="Игоревна",
        gender="f",
        status="convicted",
        birth_date=date(2000, 3, 3),
        detained_ago=None,
        placements=_history(("tver-kp8", 200, None)),
        case_summary="Осуждена за «хулиганство по мотивам политической ненависти»: "
        "надпись на стене гаража.",
        sentence="2 года колонии-поселения",
        interests="рисование, велосипед, сериалы",
        notes_for_writers="Прибыла в колонию-поселение самостоятельно; любит письма с рисунками.",
        weight=2,
    ),
    PrisonerData(
        key="nikitin",
        last_name="Никитин",
        first_name="Сергей",
        patronymic="Валентинович",
        gender="m",
        status="convicted",
        birth_year=1968,
        detained_ago=1002,
        placements=_history(
            ("msk-sizo1", 1000, 720),
            (None, 720, 700),
            ("vlad-ik6", 700, 420),
            ("vlad-t2", 420, None),
        ),
        case_summary="Осуждён за «дискредитацию» армии; позднее переведён на тюремный режим.",
        sentence="6 лет лишения свободы, из них 3 года в тюрьме",
        interests="кроссворды, история флота, радиотехника",
        notes_for_writers="Любит письма с вопросами: отвечает подробно.",
        weight=1,
    ),
    PrisonerData(
        key="orlov",
        last_name="Орлов",
        first_name="Илья",
        patronymic="Романович",
        gender="m",
        status="pretrial",
        birth_date=date(1994, 1, 17),
        detained_ago=37,
        placements=_history(("msk-sizo5", 35, None)),
        case_summary="Задержан недавно; обвиняется в «распространении заведомо ложной "
        "информации» об армии.",
        interests="фотография, джаз, кулинария",
        notes_for_writers="Писем пока не было ни одного — станьте первыми.",
        weight=0,
    ),
    PrisonerData(
        key="tarasova",
        last_name="Тарасова",
        first_name="Елена",
        patronymic="Михайловна",
        gender="f",
        status="convicted",
        birth_date=date(1972, 9, 14),
        detained_ago=652,
        placements=_history(("msk-sizo6", 650, 400), (None, 400, 380), ("mord-ik2", 380, None)),
        case_summary="Осуждена за «оправдание терроризма» за слова в интервью местному блогеру.",
        sentence="5 лет колонии общего режима",
        interests="театр, кулинария, гимнастика",
        notes_for_writers="Любит рецепты и рассказы о театральных премьерах.",
        weight=1,
    ),
    PrisonerData(
        key="bogdanov",
        last_name="Богданов",
        first_name="Кирилл",
        patronymic="Евгеньевич",
        gender="m",
        status="convicted",
        birth_date=date(1981, 12, 30),
        detained_ago=702,
        placements=_history(("msk-sizo1", 700, 320), (None, 320, 300), ("komi-ik49", 300, None)),
        case_summary="Осуждён за «публичные призывы к деятельности против безопасности "
        "государства» в сетевом чате.",
        sentence="5 лет колонии строгого режима",
        interests="туризм, гитара, история Сибири",
        notes_for_writers="Просит присылать кроссворды и рассказы о походах.",
        weight=1,
    ),
)


# Pseudonyms writers sign with: first names, towns, never full identities.
SIGNATURES_RU: tuple[str, ...] = (
    "Аня из Тбилиси",
    "Марк",
    "Друг из Берлина",
    "Ольга",
    "Саша из Праги",
    "Катя и Миша",
    "Ваш друг из Риги",
    "Лена",
    "Дмитрий",
    "Нина Петровна",
    "Ира из Вильнюса",
    "Тимур",
    "Женя из Еревана",
    "Друзья из Хельсинки",
)

SIGNATURES_EN: tuple[str, ...] = (
    "Anna from London",
    "Mark",
    "Friends from Berlin",
    "Julia",
    "Tom from Dublin",
    "Sophie",
)

# Letter bodies are put together from these plain, censor-safe sentences.
OPENERS_RU: tuple[str, ...] = (
    "Пишу Вам, чтобы сказать: о Вас помнят и думают.",
    "Надеюсь, это письмо дойдёт быстро и застанет Вас в хорошем настроении.",
    "Мне захотелось снова написать Вам и передать немного тепла.",
    "Шлю Вам привет и самые добрые пожелания.",
)

SEASONS_RU: dict[str, str] = {
    "winter": "У нас выпал снег, во дворе дети лепят снеговиков, а по вечерам пахнет мандаринами.",
    "spring": "Весна наконец пришла: на солнце уже тепло, и скоро зацветут яблони.",
    "summer": "Лето стоит тёплое, вечерами долго светло, и можно гулять допоздна.",
    "autumn": "Осень в этом году золотая: парки жёлтые, а по утрам над рекой туман.",
}

MIDDLES_RU: tuple[str, ...] = (
    "На выходных удалось выбраться за город, собрать грибов и посидеть у костра.",
    "Мой кот научился открывать дверцу шкафа, так что дома теперь каждый день приключения.",
    "Недавно удалось перечитать «Капитанскую дочку» — удивительно, как по-новому она читается.",
    "Если захочется, напишите, какие книги Вам нравятся: с удовольствием расскажу о своих.",
    "В нашем парке открыли новую аллею, и теперь там по утрам гуляют все собаки района.",
)

CLOSINGS_RU: tuple[str, ...] = (
    "Обнимаю и желаю сил.",
    "Всего Вам доброго и тёплых дней.",
    "До следующего письма!",
    "Берегите себя.",
)

OPENERS_EN: tuple[str, ...] = (
    "I am writing to say that people think of you and remember you.",
    "I hope this letter reaches you soon and finds you well.",
)

MIDDLES_EN: tuple[str, ...] = (
    "Last weekend we walked in the hills and had a picnic by the river.",
    "My cat has learned to open the kitchen cupboard, so every day is an adventure.",
    "I am reading a long novel about a family of gardeners and enjoying it very much.",
)

CLOSINGS_EN: tuple[str, ...] = (
    "With warm wishes,",
    "Take care,",
)

# Where registered letters are posted from: post offices in several Russian cities.
POSTING_OFFICES: tuple[str, ...] = ("101000", "190000", "620014", "630099", "420111", "344002")

RETURN_REASONS: tuple[str, ...] = (
    "Возвращено за истечением срока хранения",
    "Возвращено отправителю без указания причины",
)
RETURN_MOVED = "Возвращено отправителю: адресат выбыл"
RETURN_RELEASED = "Возвращено отправителю: адресат освобождён"
WITHHELD_NOTES: tuple[str, ...] = (
    "пришёл пустой бланк ответа",
    "пришёл пустой бланк ответа",
    "письмо не выдали по решению цензора, сообщили родственники",
)


# --- Officials who receive appeals ----------------------------------------------------------
#
# Invented like everything else here: the positions follow the official pattern of each kind of
# body, but street addresses are made up (postcodes are realistic for the regional capitals).
# The real federal bodies are not demo data: see app/appeals/federal.py.

# The addressee line («Кому») is in the dative. Only the head word of these positions changes;
# the rest («по Владимирской области», «в исправительных учреждениях Владимирской области»,
# «во Владимирской области») is already governed by it and stays as it is.
_DATIVE_HEAD_WORDS = {
    "Начальник": "Начальнику",
    "Прокурор": "Прокурору",
    "Уполномоченный": "Уполномоченному",
}


def dative_position(position: str) -> str:
    """«Начальник УФСИН России по …» -> «Начальнику УФСИН России по …» (demo positions only)."""
    head, _, rest = position.partition(" ")
    if head not in _DATIVE_HEAD_WORDS:
        raise ValueError(f"no dative form known for {position!r}")
    return f"{_DATIVE_HEAD_WORDS[head]} {rest}"


@dataclass(frozen=True)
class OfficialData:
    """One invented addressee of appeals: a facility head or a regional body."""

    key: str
    kind: OfficialKind
    position: str
    organisation: str
    region: str  # of the postal address
    postcode: str
    locality: str
    street_address: str
    facility: str | None = None  # FacilityData key, for facility heads
    jurisdiction_region: str | None = None  # Facility.region, for regional bodies

    @property
    def external_id(self) -> str:
        """The stable id that makes loading idempotent."""
        return f"demo-o-{self.key}"

    @property
    def position_dative(self) -> str:
        """The addressee line: the position in the dative case."""
        return dative_position(self.position)

    @property
    def jurisdiction(self) -> Jurisdiction:
        """One facility for facility heads, a region for everyone else."""
        return Jurisdiction.FACILITY if self.facility else Jurisdiction.REGION


@dataclass(frozen=True)
class RegionData:
    """The regional bodies of one region that has demo facilities.

    ``region`` is spelled exactly as ``FacilityData.region``. Each name is written out in the
    form its position needs: after «по» (dative), after «учреждениях» or «Прокурор» (genitive),
    after «в/во» (prepositional).
    """

    key: str
    region: str
    capital: str
    directorate: str  # «УФСИН России по Владимирской области»
    prosecutor: str  # the position, «Прокурор по надзору … Владимирской области»
    prosecutor_office: str  # the organisation
    ombudsman: str  # the position, «Уполномоченный по правам человека во Владимирской области»
    # (postcode, street) of the directorate, the prosecutor's office and the commissioner
    addresses: tuple[tuple[str, str], tuple[str, str], tuple[str, str]]


_SUPERVISING = "Прокурор по надзору за соблюдением законов в исправительных учреждениях"
_SUPERVISING_OFFICE = "Прокуратура по надзору за соблюдением законов в исправительных учреждениях"
_COMMISSIONER = "Уполномоченный по правам человека"

# A specialised prosecutor's office supervising penal institutions exists in regions with many
# colonies; elsewhere the regional prosecutor's office supervises them (through a department),
# and an appeal goes to the regional prosecutor. Which regions get which is a demo choice.
REGIONS: tuple[RegionData, ...] = (
    RegionData(
        key="msk",
        region="г. Москва",
        capital="г. Москва",
        directorate="УФСИН России по г. Москве",
        prosecutor="Прокурор города Москвы",
        prosecutor_office="Прокуратура города Москвы",
        ombudsman=f"{_COMMISSIONER} в городе Москве",
        addresses=(
            ("115054", "ул. Озёрная, д. 16"),
            ("109012", "ул. Школьная, д. 27"),
            ("119019", "ул. Парковая, д. 3"),
        ),
    ),
    RegionData(
        key="spb",
        region="г. Санкт-Петербург",
        capital="г. Санкт-Петербург",
        directorate="УФСИН России по г. Санкт-Петербургу и Ленинградской области",
        prosecutor="Прокурор Санкт-Петербурга",
        prosecutor_office="Прокуратура Санкт-Петербурга",
        ombudsman=f"{_COMMISSIONER} в Санкт-Петербурге",
        addresses=(
            ("191015", "ул. Садовая, д. 11"),
            ("190000", "пер. Почтовый, д. 4"),
            ("191186", "наб. Речная, д. 9"),
        ),
    ),
    RegionData(
        key="sverdl",
        region="Свердловская область",
        capital="г. Екатеринбург",
        directorate="ГУФСИН России по Свердловской области",
        prosecutor=f"{_SUPERVISING} Свердловской области",
        prosecutor_office=f"{_SUPERVISING_OFFICE} Свердловской области",
        ombudsman=f"{_COMMISSIONER} в Свердловской области",
        addresses=(
            ("620014", "ул. Горная, д. 17"),
            ("620075", "ул. Школьная, д. 8"),
            ("620031", "пл. Центральная, д. 1"),
        ),
    ),
    RegionData(
        key="rostov",
        region="Ростовская область",
        capital="г. Ростов-на-Дону",
        directorate="ГУФСИН России по Ростовской области",
        prosecutor="Прокурор Ростовской области",
        prosecutor_office="Прокуратура Ростовской области",
        ombudsman=f"{_COMMISSIONER} в Ростовской области",
        addresses=(
            ("344002", "ул. Донская, д. 22"),
            ("344006", "пер. Тихий, д. 5"),
            ("344010", "ул. Парковая, д. 14"),
        ),
    ),
    RegionData(
        key="vlad",
        region="Владимирская область",
        capital="г. Владимир",
        directorate="УФСИН России по Владимирской области",
        prosecutor=f"{_SUPERVISING} Владимирской области",
        prosecutor_office=f"{_SUPERVISING_OFFICE} Владимирской области",
        ombudsman=f"{_COMMISSIONER} во Владимирской области",
        addresses=(
            ("600000", "ул. Соборная, д. 6"),
            ("600005", "ул. Школьная, д. 19"),
            ("600017", "ул. Садовая, д. 2"),
        ),
    ),
    RegionData(
        key="mord",
        region="Республика Мордовия",
        capital="г. Саранск",
        directorate="УФСИН России по Республике Мордовия",
        prosecutor=f"{_SUPERVISING} Республики Мордовия",
        prosecutor_office=f"{_SUPERVISING_OFFICE} Республики Мордовия",
        ombudsman=f"{_COMMISSIONER} в Республике Мордовия",
        addresses=(
            ("430005", "ул. Луговая, д. 13"),
            ("430000", "ул. Школьная, д. 4"),
            ("430003", "ул. Парковая, д. 21"),
        ),
    ),
    RegionData(
        key="komi",
        region="Республика Коми",
        capital="г. Сыктывкар",
        directorate="УФСИН России по Республике Коми",
        prosecutor=f"{_SUPERVISING} Республики Коми",
        prosecutor_office=f"{_SUPERVISING_OFFICE} Республики Коми",
        ombudsman=f"{_COMMISSIONER} в Республике Коми",
        addresses=(
            ("167000", "ул. Лесная, д. 24"),
            ("167001", "ул. Северная, д. 7"),
            ("167023", "ул. Садовая, д. 15"),
        ),
    ),
    RegionData(
        key="yanao",
        region="Ямало-Ненецкий автономный округ",
        capital="г. Салехард",
        directorate="УФСИН России по Ямало-Ненецкому автономному округу",
        prosecutor="Прокурор Ямало-Ненецкого автономного округа",
        prosecutor_office="Прокуратура Ямало-Ненецкого автономного округа",
        ombudsman=f"{_COMMISSIONER} в Ямало-Ненецком автономном округе",
        addresses=(
            ("629008", "ул. Полярная, д. 10"),
            ("629007", "ул. Школьная, д. 3"),
            ("629003", "ул. Речная, д. 18"),
        ),
    ),
    RegionData(
        key="krsk",
        region="Красноярский край",
        capital="г. Красноярск",
        directorate="ГУФСИН России по Красноярскому краю",
        prosecutor=f"{_SUPERVISING} Красноярского края",
        prosecutor_office=f"{_SUPERVISING_OFFICE} Красноярского края",
        ombudsman=f"{_COMMISSIONER} в Красноярском крае",
        addresses=(
            ("660049", "ул. Енисейская, д. 12"),
            ("660017", "ул. Школьная, д. 30"),
            ("660021", "ул. Парковая, д. 6"),
        ),
    ),
    RegionData(
        key="nn",
        region="Нижегородская область",
        capital="г. Нижний Новгород",
        directorate="ГУФСИН России по Нижегородской области",
        prosecutor="Прокурор Нижегородской области",
        prosecutor_office="Прокуратура Нижегородской области",
        ombudsman=f"{_COMMISSIONER} в Нижегородской области",
        addresses=(
            ("603000", "ул. Волжская, д. 9"),
            ("603005", "пер. Почтовый, д. 2"),
            ("603001", "ул. Набережная, д. 25"),
        ),
    ),
    RegionData(
        key="perm",
        region="Пермский край",
        capital="г. Пермь",
        directorate="ГУФСИН России по Пермскому краю",
        prosecutor=f"{_SUPERVISING} Пермского края",
        prosecutor_office=f"{_SUPERVISING_OFFICE} Пермского края",
        ombudsman=f"{_COMMISSIONER} в Пермском крае",
        addresses=(
            ("614000", "ул. Камская, д. 14"),
            ("614006", "ул. Школьная, д. 11"),
            ("614015", "ул. Садовая, д. 8"),
        ),
    ),
    RegionData(
        key="sar",
        region="Саратовская область",
        capital="г. Саратов",
        directorate="УФСИН России по Саратовской области",
        prosecutor="Прокурор Саратовской области",
        prosecutor_office="Прокуратура Саратовской области",
        ombudsman=f"{_COMMISSIONER} в Саратовской области",
        addresses=(
            ("410012", "ул. Волжская, д. 20"),
            ("410031", "ул. Школьная, д. 5"),
            ("410002", "ул. Парковая, д. 12"),
        ),
    ),
    RegionData(
        key="tver",
        region="Тверская область",
        capital="г. Тверь",
        directorate="УФСИН России по Тверской области",
        prosecutor="Прокурор Тверской области",
        prosecutor_office="Прокуратура Тверской области",
        ombudsman=f"{_COMMISSIONER} в Тверской области",
        addresses=(
            ("170100", "ул. Заволжская, д. 8"),
            ("170000", "ул. Школьная, д. 16"),
            ("170026", "наб. Речная, д. 4"),
        ),
    ),
)


def _facility_heads() -> tuple[OfficialData, ...]:
    """The head of every demo facility, addressed at the facility itself."""
    return tuple(
        OfficialData(
            key=f"head-{facility.key}",
            kind=OfficialKind.FACILITY_HEAD,
            position=f"Начальник {facility.name}",
            organisation=facility.name,
            region=facility.region,
            postcode=facility.postcode,
            locality=facility.locality,
            street_address=facility.street_address,
            facility=facility.key,
        )
        for facility in FACILITIES
    )


def _regional_bodies() -> tuple[OfficialData, ...]:
    """Directorate, supervising prosecutor and human-rights commissioner of every region."""
    officials: list[OfficialData] = []
    for item in REGIONS:
        bodies = (
            (
                "ufsin",
                OfficialKind.REGIONAL_DIRECTORATE,
                f"Начальник {item.directorate}",
                item.directorate,
            ),
            ("prosecutor", OfficialKind.PROSECUTOR, item.prosecutor, item.prosecutor_office),
            (
                "ombudsman",
                OfficialKind.REGIONAL_OMBUDSMAN,
                item.ombudsman,
                f"Аппарат Уполномоченного {item.ombudsman.partition(' ')[2]}",
            ),
        )
        for (suffix, kind, position, organisation), (postcode, street) in zip(
            bodies, item.addresses, strict=True
        ):
            officials.append(
                OfficialData(
                    key=f"{suffix}-{item.key}",
                    kind=kind,
                    position=position,
                    organisation=organisation,
                    region=item.region,
                    postcode=postcode,
                    locality=item.capital,
                    street_address=street,
                    jurisdiction_region=item.region,
                )
            )
    return tuple(officials)


OFFICIALS: tuple[OfficialData, ...] = _facility_heads() + _regional_bodies()
