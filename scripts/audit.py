"""`make audit`: a bounded wapiti scan of Konvert, served as `make run` serves it, on loopback.

Starts scripts/run.sh on a free port with a throwaway instance folder (demo data, an admin
account, one letter written through the site so that a private tracking page is in scope),
runs Debian's wapiti against it, logged in as the admin, and prints what wapiti found. Exits 1
when wapiti reports any vulnerability or anomaly (a server error or a timeout), 2 when the
scan could not run.

The app runs with the production configuration (KONVERT_CONFIG=production: Secure cookies,
HSTS, a public URL) over HTTPS, which gunicorn serves with a self-signed certificate made for
the scan: that is the configuration an organisation exposes, and Secure cookies would not come
back over plain HTTP.

Bounded: wapiti 3.0.4 stops crawling after ``--max-scan-time`` seconds (default 120) and then
gives each attack module at most ``--max-attack-time`` seconds (default 20): about 4.5 minutes
in all on a 2-core machine (2,739 URLs and forms crawled), so that CI runs it. (With 240 and
25 it crawled 3,875, found the same nothing, and took 6 minutes 13 s.) Modules that need an
endpoint on the internet (ssrf) cannot work on a machine without one and are left out. Rate
limits are raised for the scan: they would refuse most attack requests, and are tested on
their own.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BIN = REPO / ".venv" / "bin"
ADMIN_EMAIL = "audit@example.org"
ADMIN_PASSWORD = "an audit password that is long enough"  # noqa: S105 - a throwaway instance
RATE_LIMITS = ("PUBLIC_WRITES", "CHECKS", "PDF", "OPTIN_ADDRESS", "OPTIN_PRISONER", "LOGIN",
               "LOGIN_GLOBAL")  # fmt: skip
# wapiti's default modules, less ssrf (it needs wapiti's endpoint on the internet).
MODULES = "blindsql,cookieflags,csp,exec,file,http_headers,permanentxss,redirect,sql,xss"
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
# Debian 12's wapiti (3.0.4) compiles ``--exclude`` patterns with global flags at the end,
# which Python 3.11 refuses; run it with that one function fixed.
WAPITI = [
    "/usr/bin/python3",
    "-c",
    "import re, sys\n"
    "import wapitiCore.net.crawler as crawler\n"
    "crawler.wildcard_translate = lambda pattern: re.compile(\n"
    "    '(?ms)' + ''.join('.*' if c == '*' else re.escape(c) for c in pattern) + r'\\Z')\n"
    "from wapitiCore.main.wapiti import wapiti_main\n"
    "sys.argv[0] = 'wapiti'\n"
    "sys.exit(wapiti_main())\n",
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A certificate and key for 127.0.0.1, made with openssl for this scan only."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(  # noqa: S603 - fixed arguments
        ["/usr/bin/openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


def wait_for(url: str, seconds: float, context: ssl.SSLContext) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2, context=context) as response:  # noqa: S310
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"audit: {url} did not answer within {seconds:.0f} s")


def write_a_letter(base: str, context: ssl.SSLContext) -> str:
    """Write a letter through the site, as a supporter would; its private tracking URL."""
    opener = urllib.request.build_opener(
        urllib.request.HTTPSHandler(context=context),
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()),
    )
    with opener.open(base + "/prisoners") as response:
        listing = response.read().decode()
    prisoner = re.search(r'href="(/prisoners/\d+)"', listing)
    if prisoner is None:
        raise SystemExit("audit: the demo data has no prisoner to write to")
    write_url = base + prisoner.group(1) + "/write"
    with opener.open(write_url) as response:
        page = response.read().decode()
    token = CSRF.search(page)
    if token is None:
        raise SystemExit("audit: the write page has no form")
    form = urllib.parse.urlencode(
        {
            "csrf_token": token.group(1),
            "template_id": "None",
            "language": "ru",
            "body": "Дорогой друг!\n\nУ нас весна, цветут яблони.\n\nЛиса",
            "signature": "Лиса",
            "save": "1",
        }
    ).encode()
    # A browser sends the page's address as the Referer (Referrer-Policy: same-origin), which
    # the CSRF check over HTTPS requires.
    posted = urllib.request.Request(write_url, data=form, headers={"Referer": write_url})  # noqa: S310
    with opener.open(posted) as response:
        tracking = response.geturl().split("?")[0]
    if "/t/" not in tracking:
        raise SystemExit(
            f"audit: saving the letter did not lead to its tracking page ({tracking})"
        )
    return tracking


def findings(report: dict[str, object]) -> list[str]:
    """Every vulnerability and anomaly in wapiti's JSON report, one line each."""
    lines = []
    for section in ("vulnerabilities", "anomalies"):
        groups = report.get(section) or {}
        assert isinstance(groups, dict)
        for name, items in groups.items():
            for item in items or []:
                where = f"{item.get('method', '')} {item.get('path', '')}".strip()
                lines.append(f"{section[:-1]}: {name}: {where}: {item.get('info', '')}")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-scan-time", type=float, default=120)
    parser.add_argument("--max-attack-time", type=float, default=20)
    parser.add_argument("--report", type=Path, default=None, help="keep wapiti's JSON here")
    options = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="konvert-audit-"))
    port = free_port()
    base = f"https://127.0.0.1:{port}"
    cert, key = self_signed_certificate(folder)
    context = ssl.create_default_context(cafile=str(cert))
    environment = {k: v for k, v in os.environ.items() if not k.startswith("KONVERT_")}
    environment.update(
        {
            "KONVERT_INSTANCE_PATH": str(folder / "instance"),
            "KONVERT_CONFIG": "production",
            "KONVERT_PUBLIC_URL": base,
            "KONVERT_TLS_CERT": str(cert),
            "KONVERT_TLS_KEY": str(key),
            "HOST": "127.0.0.1",
            "PORT": str(port),
            # The scan measures what the app lets through, not its rate limits, which would
            # refuse most of the attack requests (they are tested on their own).
            **{f"KONVERT_RATELIMIT_{name}": "100000 per minute" for name in RATE_LIMITS},
        }
    )
    server_log = (folder / "server.log").open("wb")
    server = subprocess.Popen(  # noqa: S603 - our own script
        [str(REPO / "scripts" / "run.sh")],
        cwd=REPO,
        env=environment,
        stdout=server_log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # stopped as a group: run.sh, gunicorn and the consumer
    )
    try:
        wait_for(base + "/", 180, context)
        password_file = folder / "password"
        password_file.write_text(ADMIN_PASSWORD)
        subprocess.run(  # noqa: S603 - our own command
            [str(BIN / "flask"), "users", "create-admin", ADMIN_EMAIL, "--password-file",
             str(password_file)],
            cwd=REPO, env={**environment, "FLASK_APP": "app:create_app"}, check=True,
            capture_output=True,
        )  # fmt: skip
        tracking = write_a_letter(base, context)
        report_file = options.report or folder / "wapiti.json"
        started = time.monotonic()
        scan = subprocess.run(  # noqa: S603 - Debian's wapiti, arguments built here
            [
                *WAPITI, "--url", base + "/", "--scope", "folder",
                "--start", base + "/login", "--start", tracking, "--start", base + "/stats",
                "--auth-type", "post", "--auth-cred", f"{ADMIN_EMAIL}%{ADMIN_PASSWORD}",
                "--exclude", base + "/logout",
                "--module", MODULES,
                "--max-scan-time", str(options.max_scan_time),
                "--max-attack-time", str(options.max_attack_time),
                "--flush-session", "--store-session", str(folder / "wapiti"),
                "--no-bugreport", "--verbose", "0",
                "--format", "json", "--output", str(report_file),
            ],
            cwd=folder, check=False, capture_output=True, text=True,
        )  # fmt: skip
        (folder / "wapiti.log").write_text(scan.stdout + scan.stderr)
        took = time.monotonic() - started
        if scan.returncode != 0 or not report_file.exists():
            print(scan.stdout + scan.stderr, file=sys.stderr)
            print(f"audit: wapiti failed (exit {scan.returncode})", file=sys.stderr)
            return 2
        report = json.loads(report_file.read_text())
        found = findings(report)
        info = report.get("infos", {})
        crawled = re.search(r"Wapiti found (\d+) URLs and forms", scan.stdout)
        print(
            f"audit: {info.get('version', 'wapiti')} scanned {base} for {took:.0f} s: "
            f"{crawled.group(1) if crawled else '?'} URLs and forms, modules {MODULES}"
        )
        for line in found:
            print(f"  {line}")
        print(f"audit: {len(found)} findings (vulnerabilities and anomalies)")
        return 1 if found else 0
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
        server_log.close()


if __name__ == "__main__":
    sys.exit(main())
