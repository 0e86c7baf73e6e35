"""Time the print pack of a drive against printing the same letters one by one.

Builds 500 invented letters with envelopes in code (no database), warms a pool of rendering
workers (one per core), then, in rounds that alternate the two so that a busy spell on a shared
machine hits both, times:

- ``render_pack`` on the 500 letters (the pool; letters grouped into documents),
- ``render_naive_cold`` on the same 500 letters: one document per letter + envelope, in one
  process, parsing the stylesheets and loading the fonts for every letter, as a plain
  ``HTML(...).write_pdf()`` per letter does: the naive way the budget is judged against, and
- ``render_naive``, the app's own single-letter renderer one letter after another, whose
  stylesheets and fonts stay loaded (for information: how much the grouping and the processes
  add on their own),

and prints the times and throughputs, the ratios, the CPU time per letter of each (the fairer
figure when other work shares the machine), the pack's size, and how much each worker's resident
memory grew over the timed packs. Budgets (DESIGN.md): ≤ 30 s for 500 letters on 2 cores, ≥ 3×
the naive throughput, each worker growing < 50 MB over the run.

Measured on the 2-core development machine (a VM whose speed drifts by ±20 % from minute to
minute), 2 rounds: pack 25.9 s (24.7–27.1 s), naive 88.7 s, ratio 3.43× (rounds 3.25–3.61×),
workers grew by at most 5 MB: every budget met. Against the warm one-by-one renderer (54.1 s)
the pack is 2.09×: with HarfBuzz subsetting a letter rendered alone takes only about 1.1 times
the CPU it takes in a group, so beyond keeping stylesheets and fonts loaded the gain is about
the number of cores.

Run: .venv/bin/python bench/pack.py [--letters 500] [--group-size 25 | 10,25,50]
                                    [--processes N] [--repeat 2] [--skip-naive]
"""

from __future__ import annotations

import argparse
import io
import os
import random
import statistics
import sys
import time
from collections import defaultdict
from datetime import date
from pathlib import Path

# app/__init__.py imports the top-level config module, which lives in the repository root.
# The workers (spawn) re-import this file, so keep its top level light: no app imports here.
ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

BUDGET_SECONDS = 30.0
BUDGET_RATIO = 3.0
BUDGET_GROWTH_MB = 50.0
MB = 1024 * 1024

# Invented facilities in the official pattern, with realistic postcodes.
FACILITIES = [
    ("ФКУ ИК-6 УФСИН России по Владимирской области", "ул. Ленина, д. 12", "г. Покров",
     "Владимирская обл.", "601120"),
    ("ФКУ СИЗО-1 УФСИН России по г. Москве", "ул. Тихая, д. 18", "г. Москва", None, "107076"),
    ("ФКУ СИЗО-5 УФСИН России по г. Москве", "ул. Речная, д. 5", "г. Москва", None, "125130"),
    ("ФКУ СИЗО-1 УФСИН России по г. Санкт-Петербургу и Ленинградской области",
     "наб. Лесная, д. 3", "г. Санкт-Петербург", None, "195009"),
    ("ФКУ СИЗО-1 ГУФСИН России по Свердловской области", "ул. Заводская, д. 40",
     "г. Екатеринбург", "Свердловская обл.", "620089"),
    ("ФКУ ИК-2 УФСИН России по Республике Мордовия", "ул. Советская, д. 9", "пос. Явас",
     "Республика Мордовия", "431160"),
    ("ФКУ ИК-49 УФСИН России по Республике Коми", "ул. Северная, д. 2", "г. Печора",
     "Республика Коми", "169600"),
    ("ФКУ ИК-8 УФСИН России по Ямало-Ненецкому автономному округу", "ул. Набережная, д. 1",
     "пос. Харп", "Ямало-Ненецкий автономный округ", "629420"),
    ("ФКУ ИК-17 ГУФСИН России по Красноярскому краю", "ул. Промышленная, д. 11",
     "г. Минусинск", "Красноярский край", "662600"),
    ("ФКУ Т-2 УФСИН России по Владимирской области", "ул. Каменная, д. 7", "г. Владимир",
     "Владимирская обл.", "600020"),
    ("ФКУ ИК-7 УФСИН России по Республике Карелия", "ул. Озёрная, д. 4", "г. Сегежа",
     "Республика Карелия", "186420"),
    ("ФКУ СИЗО-4 ГУФСИН России по Ростовской области", "ул. Степная, д. 21",
     "г. Новочеркасск", "Ростовская обл.", "346400"),
]  # fmt: skip

# (dative full name, year of birth, first name for the greeting, feminine?)
PRISONERS = [
    ("Горинову Алексею Александровичу", 1961, "Алексей", False),
    ("Петровой Анне Сергеевне", 1985, "Анна", True),
    ("Кузнецову Дмитрию Игоревичу", 1990, "Дмитрий", False),
    ("Смирновой Елене Викторовне", 1978, "Елена", True),
    ("Васильеву Игорю Петровичу", 1969, "Игорь", False),
    ("Морозовой Ольге Андреевне", 1993, "Ольга", True),
    ("Соколову Михаилу Юрьевичу", 1982, "Михаил", False),
    ("Новиковой Марии Дмитриевне", 1999, "Мария", True),
    ("Фёдорову Сергею Николаевичу", 1975, "Сергей", False),
    ("Волковой Татьяне Олеговне", 1988, "Татьяна", True),
    ("Лебедеву Андрею Владимировичу", 1971, "Андрей", False),
    ("Кара-Мурзе Владимиру Владимировичу", 1981, "Владимир", False),
    ("Егоровой Светлане Павловне", 1966, "Светлана", True),
    ("Павлову Николаю Андреевичу", 1995, "Николай", False),
    ("Степановой Ирине Михайловне", 1987, "Ирина", True),
    ("Орлову Константину Ильичу", 1979, "Константин", False),
    ("Зайцевой Наталье Борисовне", 1972, "Наталья", True),
    ("Белову Артёму Сергеевичу", 2001, "Артём", False),
    ("Григорьевой Юлии Александровне", 1991, "Юлия", True),
    ("Тимофееву Павлу Евгеньевичу", 1984, "Павел", False),
]

SENDERS = [
    ("Анна из Тбилиси", "Иванова Анна Петровна",
     ["ул. Руставели, д. 12, кв. 5", "Тбилиси 0108", "ГРУЗИЯ / GEORGIA"]),
    ("Михаил, Берлин", "Mikhail Sokolov",
     ["Oranienstraße 25", "10999 Berlin", "ГЕРМАНИЯ / GERMANY"]),
    ("Ваша Катя", "Екатерина Орлова", ["Brīvības iela 40-7", "Rīga LV-1050", "ЛАТВИЯ / LATVIA"]),
    ("Друзья из Еревана", "", []),
    ("Лена", "Елена Сергеевна Морозова",
     ["ul. Marszałkowska 10/12", "00-590 Warszawa", "ПОЛЬША / POLAND"]),
]  # fmt: skip

PARAGRAPHS = [
    "Пишу вам из Тбилиси. Здесь уже совсем тепло: на рынке появилась первая черешня, а у "
    "цветочных рядов продают сирень целыми охапками. Каждое утро я прохожу мимо них по дороге "
    "на работу и думаю, что весна всё-таки приходит всегда, даже когда кажется, что её не будет.",
    "Вчера мы с друзьями гуляли по старому городу, пили чай с чабрецом и вспоминали вас. Кто-то "
    "рассказал, что вы любите шахматы, — я тоже играю, хотя и плохо. Если захотите, можем "
    "сыграть партию по переписке: я начну, е2–е4.",
    "Недавно я перечитала «Белую гвардию» и всё время думала о том, как важно, что у людей есть "
    "дом, лампа под абажуром и книги. Напишите, что вы сейчас читаете и чего вам не хватает, — "
    "может быть, мы сможем прислать книги или журналы.",
    "У нас во дворе живёт рыжий кот, которого все соседи зовут по-разному: одни Васькой, другие "
    "Рыжиком, а дети с третьего этажа — Профессором. Он приходит обедать по очереди ко всем и, "
    "кажется, считает себя хозяином всего дома.",
    "На выходных я наконец-то испекла пирог с яблоками по бабушкиному рецепту. Получилось не так "
    "красиво, как у неё, но запах был точно такой же, как в детстве. Расскажите, что вы любите "
    "готовить и какое блюдо вспоминаете чаще всего.",
    "Весной мы ездили за город, к реке. Вода ещё холодная, но на берегу уже цветёт мать-и-мачеха, "
    "и над полем кричат жаворонки. Я сфотографировала закат и очень хотела бы показать вам эту "
    "фотографию — попробую прислать её в следующем письме.",
    "Я начала учиться играть на гитаре. Пока получаются только три аккорда, и соседи, наверное, "
    "уже выучили их наизусть. Зато по вечерам это очень успокаивает, и я думаю, что к осени "
    "смогу сыграть что-нибудь целиком.",
    "Как вы себя чувствуете? Хватает ли тёплых вещей? Мы о вас помним, думаем о вас и очень ждём "
    "весточки. Если будет возможность, напишите хотя бы пару строк — нам важно знать, что письма "
    "доходят.",
    "Моя племянница пошла в первый класс и теперь каждый вечер рассказывает, что они "
    "проходили. Вчера она объясняла мне, почему небо голубое, и, честно говоря, объяснила "
    "лучше, чем когда-то мой учитель физики.",
    "Здесь открылась небольшая библиотека, где можно брать книги на русском. Я записалась туда и "
    "взяла Паустовского — его «Золотую розу». Удивительно, как он пишет о самых простых вещах: о "
    "дожде, о старом саде, о разговоре на пристани.",
]

CLOSINGS = [
    "Обнимаю и желаю сил, терпения и здоровья!",
    "Берегите себя. До следующего письма!",
    "Желаю вам тепла, света и хороших новостей. Жду ответа!",
]


def build_items(count: int, seed: int = 2025):
    """``count`` invented letters with envelopes: mostly one page, some two; DL and C5."""
    from app.pdf.pack_layout import PackItem
    from app.pdf.render import EnvelopeDocument, LetterDocument

    rng = random.Random(seed)
    items = []
    for number in range(count):
        dative, year, first_name, feminine = PRISONERS[number % len(PRISONERS)]
        facility, street, locality, region, postcode = FACILITIES[
            (number * 7 + number // len(PRISONERS)) % len(FACILITIES)
        ]
        signature, sender_name, sender_address = SENDERS[number % len(SENDERS)]
        greeting = f"{'Дорогая' if feminine else 'Дорогой'} {first_name}!"
        chosen = rng.sample(PARAGRAPHS, rng.choice((3, 4, 4, 5, 5, 6, 8)))
        body = "\n\n".join([greeting, *chosen, rng.choice(CLOSINGS)])
        recipient = f"{dative}, {year} г.р."
        address = [
            recipient,
            facility,
            street,
            locality,
            *([region] if region else []),
            postcode,
            "РОССИЯ / RUSSIA",
        ]
        items.append(
            PackItem(
                letter=LetterDocument(
                    language="ru",
                    body=body,
                    signature=signature,
                    written_on=date(2025, 5, 12),
                    recipient_header=recipient,
                ),
                envelope=EnvelopeDocument(
                    size="c5" if rng.random() < 0.15 else "dl",
                    sender_name=sender_name,
                    sender_address_lines=list(sender_address),
                    recipient_lines=address,
                ),
                facility_label=f"{facility}, {postcode}",
                recipient_label=recipient,
            )
        )
    return items


def verdict(ok: bool) -> str:
    return "OK" if ok else "OVER"


class PackRuns:
    """The timed packs of one group size."""

    def __init__(self, group_size: int) -> None:
        self.group_size = group_size
        self.seconds: list[float] = []
        self.cpu_seconds = 0.0  # workers + parent
        self.letters = 0
        self.reports: list = []
        self.pdf = b""


def time_pack(items, cover, pool, runs: PackRuns) -> None:
    """Render the pack once in the pool and add its figures to ``runs``."""
    from app.pdf.pack import render_pack

    pool.reports.clear()
    calls: list[tuple[int, int]] = []
    started, cpu = time.perf_counter(), time.process_time()
    runs.pdf = render_pack(
        items,
        cover,
        lambda done, total: calls.append((done, total)),
        group_size=runs.group_size,
        pool=pool,
    )
    runs.seconds.append(time.perf_counter() - started)
    assert calls[-1] == (len(items), len(items)), calls[-1]
    runs.cpu_seconds += time.process_time() - cpu + sum(r.cpu_seconds for r in pool.reports)
    runs.letters += len(items)
    runs.reports.extend(pool.reports)


def render_naive_cold(items) -> list[bytes]:
    """Each letter and its envelope as a document of its own, the naive way: the stylesheets
    parsed and the fonts loaded again for every letter, as a plain ``HTML(...).write_pdf()``
    per letter does. What the pack's long-lived, pre-loaded workers are measured against."""
    import weasyprint
    from weasyprint.text.fonts import FontConfiguration

    from app.pdf import render

    base_url = render.dir_url(render.FONTS_DIR)

    def html(markup: str):
        return weasyprint.HTML(string=markup, base_url=base_url, url_fetcher=render.FETCHER)

    pdfs = []
    for item in items:
        fonts = FontConfiguration()

        def css(name: str, fonts=fonts):
            text = (render.PDF_DIR / name).read_text(encoding="utf-8")
            return weasyprint.CSS(
                string=text, base_url=base_url, url_fetcher=render.FETCHER, font_config=fonts
            )

        letter = html(render.letter_html(item.letter)).render(
            stylesheets=[css("fonts.css"), css("letter.css")], font_config=fonts
        )
        envelope = html(render.envelope_html(item.envelope)).render(
            stylesheets=[css("fonts.css"), css("envelope.css")], font_config=fonts
        )
        pdfs.append(letter.copy([*letter.pages, *envelope.pages]).write_pdf())
    return pdfs


def time_naive(items, seconds: list[float], *, warm: bool) -> float:
    """Render every letter as its own document once; return the CPU seconds it took.

    ``warm``: with the app's own single-letter renderer, whose stylesheets and fonts stay
    loaded between letters; otherwise the naive way (``render_naive_cold``)."""
    from app.pdf.pack import render_naive

    started, cpu = time.perf_counter(), time.process_time()
    if warm:
        render_naive(items)
    else:
        render_naive_cold(items)
    seconds.append(time.perf_counter() - started)
    return time.process_time() - cpu


def spread(values: list[float]) -> str:
    """ "median (min–max)" of timings."""
    return f"{statistics.median(values):.1f} s ({min(values):.1f}–{max(values):.1f})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--letters", type=int, default=500)
    parser.add_argument(
        "--group-size", default=None, help="letters per document; a comma list to compare"
    )
    parser.add_argument("--processes", type=int, default=None)
    parser.add_argument(
        "--repeat", type=int, default=2, help="rounds; each renders the pack and the naive way"
    )
    parser.add_argument("--skip-naive", action="store_true")
    args = parser.parse_args()

    from pypdf import PdfReader

    from app.pdf.pack import DEFAULT_GROUP_SIZE
    from app.pdf.pack import render_pack as warm_pack
    from app.pdf.pack_layout import CoverInfo
    from app.pdf.pool import PackPool, default_processes
    from app.pdf.render import render_letter_pdf, subsetting_problem

    problem = subsetting_problem()
    if problem:
        print(f"WARNING: {problem}; timings will be ~3x slower than in production")

    group_sizes = [int(size) for size in (args.group_size or str(DEFAULT_GROUP_SIZE)).split(",")]
    processes = args.processes or default_processes()
    items = build_items(args.letters)
    cover = CoverInfo("Вечер писем", date(2025, 5, 12), date(2025, 5, 13))
    budget_seconds = BUDGET_SECONDS * len(items) / 500
    print(
        f"pack: {len(items)} letters + envelopes, {processes} worker processes "
        f"(os.cpu_count() = {os.cpu_count()}), {args.repeat} rounds; "
        f"load average {os.getloadavg()[0]:.2f}"
    )

    all_runs = [PackRuns(size) for size in group_sizes]
    naive_seconds: list[float] = []
    naive_cpu = 0.0
    warm_seconds: list[float] = []
    warm_cpu = 0.0
    render_letter_pdf(items[0].letter, items[0].envelope)  # warm the naive path: stylesheets
    with PackPool(processes) as pool:
        started = time.perf_counter()
        pool.warm_up()
        # One full group per worker, so the timed runs start from the workers' steady state.
        size = max(group_sizes)
        warm_pack(items[: size * processes], cover, group_size=size, pool=pool)
        print(f"  pool start + warm-up        {time.perf_counter() - started:7.1f} s")
        # Rounds alternate the two ways, so a busy spell on a shared machine hits both.
        for _ in range(args.repeat):
            for runs in all_runs:
                time_pack(items, cover, pool, runs)
            if not args.skip_naive:
                naive_cpu += time_naive(items, naive_seconds, warm=False)
                warm_cpu += time_naive(items, warm_seconds, warm=True)

    if naive_seconds:
        naive_median = statistics.median(naive_seconds)
        naive_cpu_ms = naive_cpu / (len(items) * len(naive_seconds)) * 1000
        print(
            f"  naive, one document each    {spread(naive_seconds)}   "
            f"{len(items) / naive_median:5.1f} letters/s, CPU {naive_cpu_ms:.1f} ms per letter"
        )
        warm_median = statistics.median(warm_seconds)
        print(
            f"  one by one, warm renderer   {spread(warm_seconds)}   "
            f"{len(items) / warm_median:5.1f} letters/s, CPU "
            f"{warm_cpu / (len(items) * len(warm_seconds)) * 1000:.1f} ms per letter"
        )
    all_ok = True
    for runs in all_runs:
        median = statistics.median(runs.seconds)
        cpu_ms = runs.cpu_seconds / runs.letters * 1000
        pages = len(PdfReader(io.BytesIO(runs.pdf)).pages)
        print(
            f"  print pack, group size {runs.group_size:<4} {spread(runs.seconds)}   "
            f"{len(items) / median:5.1f} letters/s, CPU {cpu_ms:.1f} ms per letter "
            f"(workers + parent); {len(runs.pdf) / MB:.1f} MB, {pages} pages"
        )
        by_pid: dict[int, list] = defaultdict(list)
        for report in runs.reports:
            by_pid[report.pid].append(report)
        growths = []
        for pid, mine in sorted(by_pid.items()):
            growth = (mine[-1].rss_after - mine[0].rss_before) / MB
            growths.append(growth)
            print(
                f"    worker {pid:<8} RSS {mine[0].rss_ready / MB:4.0f} MB when ready, "
                f"{mine[0].rss_before / MB:4.0f} → {mine[-1].rss_after / MB:4.0f} MB over the "
                f"timed packs ({growth:+5.1f} MB), peak {mine[-1].rss_peak / MB:4.0f} MB, "
                f"{len(mine)} documents"
            )
        ok_time = median <= budget_seconds
        ok_memory = max(growths) < BUDGET_GROWTH_MB
        print(f"    budget: time ≤ {budget_seconds:.0f} s{median:20.1f} s   {verdict(ok_time)}")
        ok_ratio = True
        if naive_seconds:
            ratio = naive_median / median
            ok_ratio = ratio >= BUDGET_RATIO
            rounds = [n / p for n, p in zip(naive_seconds, runs.seconds, strict=True)]
            print(
                f"    budget: ≥ {BUDGET_RATIO:.0f}× naive throughput{ratio:9.2f}×   "
                f"{verdict(ok_ratio)}   (rounds {min(rounds):.2f}–{max(rounds):.2f}×; CPU per "
                f"letter naive / pack {naive_cpu_ms / cpu_ms:.2f}, so at most "
                f"{naive_cpu_ms / cpu_ms * processes:.1f}× on {processes} cores)"
            )
            print(
                f"    against the warm one-by-one renderer (not a budget)"
                f"{warm_median / median:6.2f}×"
            )
        print(
            f"    budget: worker growth < {BUDGET_GROWTH_MB:.0f} MB{max(growths):+11.1f} MB   "
            f"{verdict(ok_memory)}"
        )
        all_ok = all_ok and ok_time and ok_ratio and ok_memory
    print(f"  load average now {os.getloadavg()[0]:.2f}")
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
