"""Load a running Konvert server with concurrent clients and report latency per page.

Stdlib only (and psycopg when the ids come from PostgreSQL): one thread and one keep-alive
HTTP connection per client (reopened when the server closes it, as gunicorn's sync workers do
after every response). The clients go round the pages in turn, with random prisoner and
facility ids read from the instance's SQLite database, or from the PostgreSQL database at
``--database-url`` (or drawn up to ``--max-prisoner-id`` / ``--max-facility-id``):

    /stats, /prisoners/<id>, /facilities/<id>, /prisoners,
    /api/v1/stats/facilities, /api/v1/stats/facilities/<id>

Each page is warmed up first (a few requests, not counted); a page that answers 404 to all of
them does not exist yet and is left out. Reported per page: requests, errors (anything but
200), p50, p95 and max in milliseconds of the successful requests, and the issue's budgets for
p95 with 10 concurrent clients: /stats ≤ 300 ms, prisoner and facility pages ≤ 50 ms.

Usually run by `make bench-load` (bench/load.sh), which serves the data set made by
bench/generate_large.py; figures are in the README's bench section.

Run: .venv/bin/python bench/load.py [BASE_URL] [--clients 10] [--duration 30 | --requests N]
                                    [--instance PATH | --database-url URL]
                                    [--max-prisoner-id N]
                                    [--max-facility-id N] [--warmup 3] [--seed N]
                                    [--page /prisoners/{id} ...]
"""

from __future__ import annotations

import argparse
import http.client
import math
import random
import sqlite3
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_INSTANCE = ROOT / "instance-bench"
TIMEOUT_SECONDS = 120.0  # a slow page is a figure to report, not a reason to give up


@dataclass(frozen=True)
class Page:
    """A page to load: its path pattern, which ids fill it in, and its p95 budget."""

    pattern: str
    ids: str | None = None  # "prisoner", "facility" or None
    budget_ms: float | None = None


PAGES = (
    Page("/stats", budget_ms=300),
    Page("/prisoners/{id}", "prisoner", budget_ms=50),
    Page("/facilities/{id}", "facility", budget_ms=50),
    Page("/prisoners"),
    Page("/api/v1/stats/facilities"),
    Page("/api/v1/stats/facilities/{id}", "facility"),
)


@dataclass
class Tally:
    """What one page got: latencies of the successful requests, and the failures."""

    latencies_ms: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)

    @property
    def requests(self) -> int:
        """Requests made, successful or not."""
        return len(self.latencies_ms) + sum(self.errors.values())


class Client:
    """One keep-alive connection; reconnects when the server has closed it."""

    def __init__(self, host: str, port: int, https: bool) -> None:
        self.connection_class = (
            http.client.HTTPSConnection if https else http.client.HTTPConnection
        )
        self.host, self.port = host, port
        self.connection: http.client.HTTPConnection | None = None

    def get(self, path: str) -> tuple[int, float]:
        """GET a path: the status and the time to the last byte of the body, in ms."""
        for attempt in (1, 2):
            if self.connection is None:
                self.connection = self.connection_class(
                    self.host, self.port, timeout=TIMEOUT_SECONDS
                )
            started = time.perf_counter()
            try:
                self.connection.request("GET", path, headers={"Accept-Encoding": "identity"})
                response = self.connection.getresponse()
                response.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # The server closed an idle kept-alive connection: retry once on a new one.
                self.close()
                if attempt == 2:
                    raise
                continue
            elapsed_ms = (time.perf_counter() - started) * 1000
            if response.will_close:
                self.close()
            return response.status, elapsed_ms
        raise AssertionError("unreachable")

    def close(self) -> None:
        """Drop the connection; the next request opens a new one."""
        if self.connection is not None:
            self.connection.close()
            self.connection = None


def read_ids(instance: Path) -> dict[str, list[int]]:
    """Prisoner and facility ids from the instance's SQLite database (read-only)."""
    database = instance / "konvert.db"
    if not database.exists():
        sys.exit(
            f"{database} not found: pass --instance, or --max-prisoner-id and --max-facility-id"
        )
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as connection:
        return {
            "prisoner": [row[0] for row in connection.execute("SELECT id FROM prisoner")],
            "facility": [row[0] for row in connection.execute("SELECT id FROM facility")],
        }


def read_ids_from_postgres(url: str) -> dict[str, list[int]]:
    """Prisoner and facility ids from a PostgreSQL database (an SQLAlchemy or libpq URL)."""
    import psycopg  # only here: the SQLite case needs nothing outside the standard library

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://", 1)) as connection:
        return {
            "prisoner": [row[0] for row in connection.execute("SELECT id FROM prisoner")],
            "facility": [row[0] for row in connection.execute("SELECT id FROM facility")],
        }


def path_for(page: Page, ids: dict[str, list[int]], rng: random.Random) -> str:
    """The page's path, with a random id where it takes one."""
    if page.ids is None:
        return page.pattern
    return page.pattern.format(id=rng.choice(ids[page.ids]))


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile of a non-empty list."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def warm_up(
    client: Client, pages: tuple[Page, ...], ids: dict[str, list[int]], count: int, seed: int
) -> tuple[list[Page], list[tuple[Page, str]]]:
    """Request every page a few times; return the pages to load and those left out (why)."""
    rng = random.Random(seed)  # reproducible choice of ids, not for secrets
    active: list[Page] = []
    skipped: list[tuple[Page, str]] = []
    for page in pages:
        statuses = [client.get(path_for(page, ids, rng))[0] for _ in range(max(1, count))]
        if all(status == 404 for status in statuses):
            skipped.append((page, "404 on every warm-up request: not built yet"))
        else:
            active.append(page)
    return active, skipped


def run_load(
    base: tuple[str, int, bool],
    pages: list[Page],
    ids: dict[str, list[int]],
    clients: int,
    duration: float,
    total_requests: int | None,
    seed: int,
) -> tuple[dict[Page, Tally], float]:
    """Run the clients until the duration is over or the request count reached."""
    tallies = {page: Tally() for page in pages}
    lock = threading.Lock()
    issued = 0
    deadline = time.perf_counter() + duration

    def next_ticket() -> bool:
        nonlocal issued
        with lock:
            if total_requests is not None:
                if issued >= total_requests:
                    return False
            elif time.perf_counter() >= deadline:
                return False
            issued += 1
            return True

    def worker(number: int) -> None:
        rng = random.Random(seed + number)  # reproducible choice of ids, not for secrets
        client = Client(*base)
        turn = number  # clients start on different pages
        try:
            while next_ticket():
                page = pages[turn % len(pages)]
                turn += 1
                try:
                    status, elapsed_ms = client.get(path_for(page, ids, rng))
                except (OSError, http.client.HTTPException) as error:
                    client.close()
                    outcome = type(error).__name__
                else:
                    outcome = "" if status == 200 else str(status)
                with lock:
                    tally = tallies[page]
                    if outcome:
                        tally.errors[outcome] = tally.errors.get(outcome, 0) + 1
                    else:
                        tally.latencies_ms.append(elapsed_ms)
        finally:
            client.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(n,), daemon=True) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return tallies, time.perf_counter() - started


def report(
    tallies: dict[Page, Tally],
    skipped: list[tuple[Page, str]],
    elapsed: float,
    url: str,
    clients: int,
) -> None:
    """Print the table of figures and budgets."""
    total = sum(tally.requests for tally in tallies.values())
    print(
        f"\n{url}: {clients} concurrent clients, {total} requests in {elapsed:.1f} s "
        f"({total / elapsed:.1f} requests/s)\n"
    )
    header = f"{'page':<32}{'requests':>9}{'errors':>8}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}"
    print(f"{header}  budget (p95)")
    for page, tally in tallies.items():
        errors = sum(tally.errors.values())
        if tally.latencies_ms:
            p50 = percentile(tally.latencies_ms, 0.50)
            p95 = percentile(tally.latencies_ms, 0.95)
            figures = f"{p50:>9.1f}{p95:>9.1f}{max(tally.latencies_ms):>9.1f}"
        else:
            p95 = math.inf
            figures = f"{'—':>9}{'—':>9}{'—':>9}"
        budget = ""
        if page.budget_ms is not None:
            verdict = "met" if p95 <= page.budget_ms and not errors else "NOT MET"
            budget = f"≤ {page.budget_ms:.0f} ms: {verdict}"
        print(f"{page.pattern:<32}{tally.requests:>9}{errors:>8}{figures}  {budget}")
        if tally.errors:
            kinds = ", ".join(f"{kind} × {count}" for kind, count in sorted(tally.errors.items()))
            print(f"{'':<32}errors: {kinds}")
    for page, reason in skipped:
        print(f"{page.pattern:<32}skipped: {reason}")


def main() -> None:
    """Parse the arguments, warm up, load and report."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("url", nargs="?", default="http://127.0.0.1:5000")
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--duration", type=float, default=30.0, help="seconds (default 30)")
    parser.add_argument("--requests", type=int, default=None, help="stop after N requests")
    parser.add_argument("--instance", type=Path, default=DEFAULT_INSTANCE)
    parser.add_argument(
        "--database-url",
        default=None,
        help="read the ids from this PostgreSQL database instead of the instance's SQLite file",
    )
    parser.add_argument("--max-prisoner-id", type=int, default=None)
    parser.add_argument("--max-facility-id", type=int, default=None)
    parser.add_argument("--warmup", type=int, default=3, help="requests per page, not counted")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--page",
        action="append",
        choices=[page.pattern for page in PAGES],
        help="load only this page (repeatable); default: all of them, in turn",
    )
    args = parser.parse_args()

    parts = urlsplit(args.url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        sys.exit(f"not an http(s) URL: {args.url}")
    https = parts.scheme == "https"
    base = (parts.hostname, parts.port or (443 if https else 80), https)

    if args.max_prisoner_id and args.max_facility_id:
        ids = {
            "prisoner": list(range(1, args.max_prisoner_id + 1)),
            "facility": list(range(1, args.max_facility_id + 1)),
        }
    else:
        ids = (
            read_ids_from_postgres(args.database_url)
            if args.database_url
            else read_ids(args.instance)
        )
        if args.max_prisoner_id:
            ids["prisoner"] = list(range(1, args.max_prisoner_id + 1))
        if args.max_facility_id:
            ids["facility"] = list(range(1, args.max_facility_id + 1))

    client = Client(*base)
    try:
        chosen = tuple(page for page in PAGES if not args.page or page.pattern in args.page)
        pages, skipped = warm_up(client, chosen, ids, args.warmup, args.seed)
    except OSError as error:
        sys.exit(f"{args.url} does not answer: {error}")
    finally:
        client.close()
    if not pages:
        report({}, skipped, 1.0, args.url, args.clients)
        sys.exit("no page to load")
    print(
        f"warmed up {len(pages)} pages; loading for "
        + (f"{args.requests} requests" if args.requests else f"{args.duration:.0f} s"),
        flush=True,
    )
    tallies, elapsed = run_load(
        base, pages, ids, args.clients, args.duration, args.requests, args.seed
    )
    report(tallies, skipped, elapsed, args.url, args.clients)


if __name__ == "__main__":
    main()
