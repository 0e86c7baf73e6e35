"""Time one warm letter + DL envelope PDF, the way a supporter prints it.

Budget (DESIGN.md): a warm single letter + envelope renders in at most 150 ms, both in this
process and through the time-bounded rendering process a request uses (app/pdf/bounded.py).
Run: .venv/bin/python bench/pdf_single.py [N]
"""

from __future__ import annotations

import statistics
import sys
import time
from datetime import date
from pathlib import Path

# app/__init__.py imports the top-level config module, which lives in the repository root.
ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from app.pdf.bounded import letter_pdf as bounded_letter_pdf  # noqa: E402
from app.pdf.render import (  # noqa: E402
    EnvelopeDocument,
    LetterDocument,
    render_letter_pdf,
    subsetting_problem,
)

BUDGET_MS = 150.0

BODY = """Дорогой Алексей!

Пишу вам из Тбилиси. Здесь уже совсем тепло: на рынке появилась первая черешня, а у цветочных \
рядов продают сирень целыми охапками. Каждое утро я прохожу мимо них по дороге на работу и \
думаю, что весна всё-таки приходит всегда, даже когда кажется, что её не будет.

Вчера мы с друзьями гуляли по старому городу, пили чай с чабрецом и вспоминали вас. Кто-то \
рассказал, что вы любите шахматы, — я тоже играю, хотя и плохо. Если захотите, можем сыграть \
партию по переписке: я начну, е2–е4.

Недавно я перечитала «Белую гвардию» и всё время думала о том, как важно, что у людей есть дом, \
лампа под абажуром и книги. Напишите, что вы сейчас читаете и чего вам не хватает, — может быть, \
мы сможем прислать книги или журналы.

Как вы себя чувствуете? Хватает ли тёплых вещей? Мы о вас помним, думаем о вас и очень ждём \
весточки.

Обнимаю и желаю сил, терпения и здоровья!"""

LETTER = LetterDocument(
    language="ru",
    body=BODY,
    signature="Анна из Тбилиси",
    written_on=date(2025, 5, 12),
    recipient_header="Горинову Алексею Александровичу, 1961 г.р.",
)

ENVELOPE = EnvelopeDocument(
    size="dl",
    sender_name="Иванова Анна Петровна",
    sender_address_lines=["ул. Руставели, д. 12, кв. 5", "Тбилиси 0108", "ГРУЗИЯ / GEORGIA"],
    recipient_lines=[
        "Горинову Алексею Александровичу, 1961 г.р.",
        "ФКУ ИК-3 УФСИН России по Владимирской области",
        "ул. Ленина, д. 1",
        "г. Покров",
        "Владимирская обл.",
        "601120",
        "РОССИЯ / RUSSIA",
    ],
)


def percentile(sorted_values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of already sorted values."""
    rank = max(1, round(fraction * len(sorted_values)))
    return sorted_values[rank - 1]


def main(runs: int = 30) -> int:
    problem = subsetting_problem()
    if problem:
        print(f"WARNING: {problem}; timings will be ~3x slower than in production")

    started = time.perf_counter()
    pdf = render_letter_pdf(LETTER, ENVELOPE)  # warm-up: stylesheets, fonts, templates
    cold_ms = (time.perf_counter() - started) * 1000

    timings: list[float] = []
    for _ in range(runs):
        started = time.perf_counter()
        render_letter_pdf(LETTER, ENVELOPE)
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()

    # As a request renders it: in the helper process, within the time limit (started and
    # warmed once, which a web process pays on its first PDF).
    bounded_letter_pdf(LETTER, ENVELOPE, timeout=60)
    bounded: list[float] = []
    for _ in range(runs):
        started = time.perf_counter()
        bounded_letter_pdf(LETTER, ENVELOPE, timeout=60)
        bounded.append((time.perf_counter() - started) * 1000)
    bounded.sort()

    median = statistics.median(timings)
    bounded_median = statistics.median(bounded)
    worst = max(median, bounded_median)
    verdict = "OK" if worst <= BUDGET_MS else "OVER BUDGET"
    print(f"pdf_single: letter + DL envelope, {len(pdf) // 1024} KiB, {runs} warm renders")
    print(f"  first (cold) {cold_ms:7.1f} ms")
    print(f"  median       {median:7.1f} ms")
    print(f"  p95          {percentile(timings, 0.95):7.1f} ms")
    print(f"  bounded      {bounded_median:7.1f} ms median, {percentile(bounded, 0.95):.1f} p95")
    print(f"  budget       {BUDGET_MS:7.1f} ms (warm)  {verdict}")
    return 0 if worst <= BUDGET_MS else 1


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 30))
