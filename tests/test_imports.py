"""Import and export of facilities and prisoners: the CLI, the web pages, and the rules."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from app.extensions import db
from app.imports.schema import split_address
from app.imports.uploads import store_upload
from app.models import (
    AuditEntry,
    Facility,
    Follow,
    ImportUpload,
    Placement,
    Prisoner,
    PrisonerStatus,
    StoredFile,
)
from app.models.base import utcnow
from app.russian.names import Gender
from tests.conftest import flashed, follow, log_in, submit
from tests.factories import make_facility, make_prisoner
from tests.mailbox import sent_mail

DATA = Path(__file__).resolve().parent / "data" / "imports"


def run_import(runner, kind: str, name: str | Path, *extra: str):
    path = name if isinstance(name, Path) else DATA / name
    return runner.invoke(args=["import", kind, str(path), *extra])


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def facility(external_id: str) -> Facility:
    found = db.session.scalar(select(Facility).where(Facility.external_id == external_id))
    assert found is not None, external_id
    return found


def prisoner(external_id: str) -> Prisoner:
    found = db.session.scalar(select(Prisoner).where(Prisoner.external_id == external_id))
    assert found is not None, external_id
    return found


def import_facilities_and_prisoners(runner) -> None:
    assert run_import(runner, "facilities", "facilities_utf8_bom_semicolon.csv").exit_code == 0
    result = run_import(runner, "prisoners", "prisoners.json")
    assert result.exit_code == 0, result.output


# Reading files ------------------------------------------------------------------------------


def test_utf8_bom_semicolon_file_is_imported_with_addresses_split(runner):
    result = run_import(runner, "facilities", "facilities_utf8_bom_semicolon.csv")

    assert result.exit_code == 0, result.output
    assert "CSV, UTF-8 with BOM, separated by “;”" in result.output
    assert "3 created, 0 updated, 0 unchanged, 0 refused" in result.output
    assert "line 2: ИК-3 — ФКУ ИК-3 УФСИН России по Владимирской области [vlad-ik3]" in (
        result.output
    )
    ik3 = facility("vlad-ik3")
    assert (ik3.street_address, ik3.locality) == ("ул. Франца Штольверка, д. 100", "г. Покров")
    assert ik3.postcode == "601120"
    assert ik3.source_url == "https://example.org/facilities/vlad-ik3"
    sizo = facility("mos-sizo1")
    # «СИЗО» is read as the kind, «Россия» as RU; the locality came first in the address.
    assert sizo.kind.value == "pretrial"
    assert sizo.country == "RU"
    assert (sizo.street_address, sizo.locality) == ("ул. Новослободская, д. 45", "г. Москва")
    harp = facility("yanao-ik6")
    assert harp.country == "RU"
    assert harp.locality == "пгт Харп"
    assert harp.source_url is None


def test_windows_1251_comma_file_with_locality_column_and_an_unknown_column(runner):
    result = run_import(runner, "facilities", "facilities_cp1251_comma.csv")

    assert result.exit_code == 0, result.output
    assert "Windows-1251, separated by “,”" in result.output
    assert "Warning: Unknown columns were ignored: “Comment”." in result.output
    ik9 = facility("perm-ik9")
    assert ik9.kind.value == "colony"  # «колония»
    # With a locality column the address is taken as it is, not split.
    assert (ik9.street_address, ik9.locality) == ("ул. Заводская, д. 3", "г. Кизел")
    assert ik9.mail_rules == "Не длиннее 4 страниц; открытки с ёлкой можно"


def test_json_prisoners_get_placements_languages_and_birth(runner):
    import_facilities_and_prisoners(runner)

    gorinov = prisoner("p-gorinov")
    assert gorinov.birth_year == 1961 and gorinov.birth_date is None
    assert gorinov.languages == "ru,en"
    assert gorinov.current_facility is facility("vlad-ik3")
    assert gorinov.current_placement.started_on == date(2023, 3, 1)
    kara_murza = prisoner("p-kara-murza")
    assert kara_murza.birth_date == date(1981, 9, 7)
    assert kara_murza.status is PrisonerStatus.PRETRIAL
    assert kara_murza.name_overrides == {"dative": "Кара-Мурзе Владимиру Владимировичу"}


def test_name_dative_override_is_on_the_public_envelope_address(runner, client):
    import_facilities_and_prisoners(runner)
    kara_murza = prisoner("p-kara-murza")

    page = client.get(f"/prisoners/{kara_murza.id}").get_data(as_text=True)

    assert "Кара-Мурзе Владимиру Владимировичу, 1981 г.р." in page
    assert "Каре-Мурзе" not in page  # what the declension rules alone would print


def test_stray_whitespace_and_empty_lines_keep_file_line_numbers(runner):
    import_facilities_and_prisoners(runner)

    result = run_import(runner, "prisoners", "prisoners_messy.csv")

    assert result.exit_code == 0, result.output
    assert "line 3: Петрова Анна Сергеевна [p-petrova]" in result.output
    assert "line 5: Иванов Иван Иванович [p-ivanov]" in result.output
    petrova = prisoner("p-petrova")
    assert (petrova.last_name, petrova.first_name) == ("Петрова", "Анна")
    assert petrova.gender is Gender.FEMALE  # «ж»
    assert petrova.birth_year == 1990
    assert petrova.accepts_letters is True  # «да»
    assert petrova.current_placement.started_on == date(2024, 1, 15)
    ivanov = prisoner("p-ivanov")
    assert ivanov.patronymic == "Иванович"
    assert ivanov.accepts_letters is False  # «нет»
    assert ivanov.source_url is None


def test_duplicate_rows_are_refused_with_the_line_they_repeat(runner):
    import_facilities_and_prisoners(runner)

    result = run_import(runner, "prisoners", "prisoners_duplicates.csv")

    assert result.exit_code == 1
    assert "line 4: Алексеев Алексей [p-a] — duplicate of line 2 (the same row again)" in (
        result.output
    )
    assert "line 5: Борисова Марина [p-b] — duplicate of line 3: the same external_id “p-b”" in (
        result.output
    )
    assert "Nothing was imported because 2 rows were refused." in result.output
    assert count(Prisoner) == 2  # only the two from prisoners.json


def test_impossible_and_future_dates_refuse_the_whole_file(runner):
    import_facilities_and_prisoners(runner)
    audit_before = count(AuditEntry)

    result = run_import(runner, "prisoners", "prisoners_bad_dates.csv")

    assert result.exit_code == 1
    assert "line 2: Васильев Василий [p-c] — birth_date: “2023-02-30” is not a real date" in (
        result.output
    )
    assert "line 3: Григорьева Ольга [p-d] — since: “2999-01-01” is in the future" in (
        result.output
    )
    assert "2 refused" in result.output
    assert "Nothing was imported because 2 rows were refused." in result.output
    # Atomic: the good row on line 4 was not imported either, and nothing was audited.
    assert db.session.scalar(select(Prisoner).where(Prisoner.external_id == "p-e")) is None
    assert count(AuditEntry) == audit_before


def test_unknown_facility_is_refused_with_a_hint(runner):
    result = run_import(runner, "prisoners", "prisoners_unknown_facility.csv")

    assert result.exit_code == 1
    assert (
        "line 2: Егоров Егор [p-f] — facility: no facility has the external_id “nowhere-ik99”; "
        "import the facilities first" in result.output
    )
    assert count(Prisoner) == 0


def test_missing_required_column_refuses_the_file(runner):
    result = run_import(runner, "prisoners", "prisoners_missing_column.csv")

    assert result.exit_code == 1
    assert "The file was refused. Required columns are missing: last_name." in result.output
    assert "“external_id,first_name,status”" in result.output
    assert count(Prisoner) == 0


def test_bad_values_are_each_reported_with_their_column(runner, tmp_path):
    path = tmp_path / "facilities.csv"
    path.write_text(
        "external_id,code,name,kind,region,postcode,address,source_url,max_letter_pages\n"
        "a,ИК-1,ФКУ ИК-1,camp,Область,12345,ул. Ленина,ftp://x.org/,0\n"
        ",ИК-2,ФКУ ИК-2,colony,Область,123456,ул. Ленина,,\n",
        encoding="utf-8",
    )

    result = run_import(runner, "facilities", path)

    assert result.exit_code == 1
    line_2 = next(line for line in result.output.splitlines() if "line 2:" in line)
    assert "kind: “camp” is not one of: colony, hospital, other, pretrial" in line_2
    assert "postcode: “12345” is not 6 digits" in line_2
    assert "source_url: “ftp://x.org/” is not a web address" in line_2
    assert "max_letter_pages: “0” is not a whole number from 1 to 100" in line_2
    assert "line 3: ИК-2 — ФКУ ИК-2 — needs an external_id or a source_url" in result.output
    assert count(Facility) == 0


def test_a_prisoner_file_is_not_taken_for_facilities(runner):
    result = run_import(runner, "facilities", "prisoners.json")

    assert result.exit_code == 1
    assert "The file holds “prisoners”, not “facilities”." in result.output


def test_spreadsheet_files_are_refused_with_advice(runner, tmp_path):
    path = tmp_path / "list.xlsx"
    path.write_bytes(b"PK\x03\x04rest of a zip archive")

    result = run_import(runner, "facilities", path)

    assert result.exit_code == 1
    assert "Save it as “CSV UTF-8”" in result.output


def test_quoted_multiline_cells_and_extra_cells_keep_line_numbers(runner, tmp_path):
    make_facility(external_id="vlad-ik3")
    path = tmp_path / "prisoners.csv"
    path.write_text(
        "external_id,last_name,first_name,status,case_summary\n"
        'p-1,Первов,Пётр,convicted,"Первая строка\nвторая строка"\n'
        "p-2,Вторых,Иван,convicted,коротко,лишнее\n",
        encoding="utf-8",
    )

    result = run_import(runner, "prisoners", path)

    assert "line 4: Вторых Иван [p-2] — the row has 6 values but the header has 5 columns" in (
        result.output
    )
    assert "line 2: Первов Пётр [p-1]" in result.output


def test_a_row_without_external_id_is_matched_by_source_url(runner, tmp_path):
    ik3 = make_facility(source_url="https://example.org/ik3")
    path = tmp_path / "facilities.csv"
    header = "code,name,kind,region,postcode,address,source_url"
    row = "ИК-3,ФКУ ИК-3 (новое имя),colony,Владимирская область,601120,ул. Ленина,"
    path.write_text(f"{header}\n{row}https://example.org/ik3\n", encoding="utf-8")

    result = run_import(runner, "facilities", path)

    assert "0 created, 1 updated" in result.output, result.output
    assert "changed: name, address, locality" in result.output
    db.session.refresh(ik3)
    assert ik3.name == "ФКУ ИК-3 (новое имя)"
    assert count(Facility) == 1


def test_an_empty_facility_with_a_date_means_in_transit(runner, tmp_path):
    import_facilities_and_prisoners(runner)
    path = tmp_path / "prisoners.json"
    path.write_text(
        json.dumps(
            [
                {
                    "external_id": "p-gorinov",
                    "last_name": "Горинов",
                    "first_name": "Алексей",
                    "status": "in_transit",
                    "facility": None,
                    "since": "2024-06-01",
                }
            ]
        ),
        encoding="utf-8",
    )

    result = run_import(runner, "prisoners", path)

    assert "item 1: Горинов Алексей [p-gorinov] — changed: status, facility, since" in (
        result.output
    )
    gorinov = prisoner("p-gorinov")
    db.session.refresh(gorinov)
    assert gorinov.current_placement.in_transit
    assert gorinov.current_placement.started_on == date(2024, 6, 1)
    assert gorinov.last_known_facility is facility("vlad-ik3")


# Dry run, atomicity, re-import --------------------------------------------------------------


def test_dry_run_changes_nothing(runner):
    result = run_import(runner, "facilities", "facilities_utf8_bom_semicolon.csv", "--dry-run")

    assert result.exit_code == 0
    assert "Dry run: nothing is written to the database." in result.output
    assert "3 to create, 0 to update, 0 unchanged, 0 refused" in result.output
    assert "3 rows are ready to import." in result.output
    assert count(Facility) == 0
    assert count(AuditEntry) == 0


def test_reimporting_the_same_file_changes_nothing(runner):
    import_facilities_and_prisoners(runner)
    audit_before = count(AuditEntry)

    again = run_import(runner, "facilities", "facilities_utf8_bom_semicolon.csv")
    prisoners_again = run_import(runner, "prisoners", "prisoners.json")

    assert "0 created, 0 updated, 3 unchanged, 0 refused" in again.output
    assert "Unchanged lines: 2–4" in again.output
    assert "0 created, 0 updated, 2 unchanged, 0 refused" in prisoners_again.output
    assert "Unchanged items: 1–2" in prisoners_again.output
    assert count(Facility) == 3
    assert count(Prisoner) == 2
    assert len(prisoner("p-gorinov").placements) == 1
    # Only the two summary entries: no record was touched.
    assert count(AuditEntry) == audit_before + 2


def test_changed_values_are_updated_and_listed(runner, tmp_path):
    run_import(runner, "facilities", "facilities_utf8_bom_semicolon.csv")
    text = (DATA / "facilities_utf8_bom_semicolon.csv").read_bytes().decode("utf-8-sig")
    path = tmp_path / "changed.csv"
    path.write_text(text.replace("601120", "601121").replace("ИК-3;", "ИК-3 «Покров»;"))

    result = run_import(runner, "facilities", path)

    assert "0 created, 1 updated, 2 unchanged" in result.output
    assert "line 2: ИК-3 «Покров» — ФКУ ИК-3" in result.output
    assert "changed: code, postcode" in result.output
    assert facility("vlad-ik3").postcode == "601121"


def test_transfer_through_reimport_closes_the_old_placement(runner):
    import_facilities_and_prisoners(runner)
    following = Follow.made(
        prisoner_id=prisoner("p-gorinov").id, token="t" * 43, email="friend@example.org"
    )
    following.confirmed_at = datetime.now()
    db.session.add(following)
    db.session.commit()

    result = run_import(runner, "prisoners", "prisoners_transfer.csv")

    assert result.exit_code == 0, result.output
    assert "0 created, 1 updated, 0 unchanged" in result.output
    assert "line 2: Горинов Алексей Александрович [p-gorinov] — changed: facility, since" in (
        result.output
    )
    gorinov = prisoner("p-gorinov")
    db.session.refresh(gorinov)
    old, new = sorted(gorinov.placements, key=lambda p: p.started_on)
    assert (old.facility, old.started_on, old.ended_on) == (
        facility("vlad-ik3"),
        date(2023, 3, 1),
        date(2024, 5, 10),
    )
    assert (new.facility, new.started_on, new.ended_on) == (
        facility("yanao-ik6"),
        date(2024, 5, 10),
        None,
    )
    # Followers hear of the transfer, as when an organizer records it by hand.
    (alert,) = sent_mail("transfer_alert", to="friend@example.org")
    assert "Горинов" not in alert.subject
    # The columns the transfer file leaves out are kept.
    assert gorinov.languages == "ru,en"
    assert gorinov.birth_year == 1961
    again = run_import(runner, "prisoners", "prisoners_transfer.csv")
    assert "0 created, 0 updated, 1 unchanged" in again.output


def test_a_transfer_dated_before_the_current_placement_is_refused(runner, tmp_path):
    import_facilities_and_prisoners(runner)
    path = tmp_path / "back.csv"
    path.write_text(
        "external_id,last_name,first_name,status,facility,since\n"
        "p-gorinov,Горинов,Алексей,convicted,yanao-ik6,2023-01-01\n",
        encoding="utf-8",
    )

    result = run_import(runner, "prisoners", path)

    assert result.exit_code == 1
    assert (
        "since: “2023-01-01” is before the start of the current placement (2023-03-01)"
        in result.output
    )
    assert prisoner("p-gorinov").current_facility is facility("vlad-ik3")


def test_cli_import_is_audited_without_a_user(runner):
    run_import(runner, "facilities", "facilities_utf8_bom_semicolon.csv")

    ik3 = facility("vlad-ik3")
    entry = db.session.scalar(
        select(AuditEntry).where(
            AuditEntry.entity_type == "facility", AuditEntry.entity_id == ik3.id
        )
    )
    assert entry.action == "import"
    assert entry.user is None
    assert entry.changes["via"] == "cli"
    assert entry.changes["line"] == 2
    assert entry.changes["postcode"] == ["", "601120"]
    summary = db.session.scalar(
        select(AuditEntry).where(
            AuditEntry.entity_type == "facility", AuditEntry.entity_id.is_(None)
        )
    )
    assert summary.changes["created"] == 3


# Export ------------------------------------------------------------------------------------


@pytest.mark.parametrize("file_format", ["csv", "json"])
def test_export_then_import_changes_nothing(runner, tmp_path, file_format):
    import_facilities_and_prisoners(runner)
    run_import(runner, "prisoners", "prisoners_messy.csv")
    # Records made by hand, without external ids, with text a spreadsheet would run as a formula.
    hand_made = make_facility(code="ЛИУ-1", name="ФКУ ЛИУ-1", mail_rules="=не более\n2 листов")
    make_prisoner(
        hand_made,
        since=date(2024, 2, 2),
        last_name="Ли",
        first_name="Дмитрий",
        gender=Gender.MALE,
        notes_for_writers="+ любит шахматы\nи книги",
        name_overrides={"genitive": "Ли Дмитрия"},
    )
    in_transit = make_prisoner(
        hand_made, since=date(2023, 1, 1), last_name="Этапов", status=PrisonerStatus.IN_TRANSIT
    )
    in_transit.placements[0].ended_on = date(2024, 3, 3)
    in_transit.placements.append(Placement(facility=None, started_on=date(2024, 3, 3)))
    db.session.commit()
    facilities_file = tmp_path / f"facilities.{file_format}"
    prisoners_file = tmp_path / f"prisoners.{file_format}"

    assert runner.invoke(args=["export", "facilities", "-o", str(facilities_file)]).exit_code == 0
    exported = runner.invoke(args=["export", "prisoners", "-o", str(prisoners_file)])
    assert exported.exit_code == 0, exported.output

    facilities_again = run_import(runner, "facilities", facilities_file)
    prisoners_again = run_import(runner, "prisoners", prisoners_file)
    assert "0 created, 0 updated, 4 unchanged, 0 refused" in facilities_again.output
    assert "0 created, 0 updated, 6 unchanged, 0 refused" in prisoners_again.output, (
        prisoners_again.output
    )


def test_export_writes_the_import_columns_and_guards_formulas(runner):
    make_facility(external_id="f-1", mail_rules="=1+1")

    result = runner.invoke(args=["export", "facilities"])

    lines = result.output.lstrip("\ufeff").splitlines()
    assert lines[0] == (
        "external_id,code,name,kind,region,country,postcode,address,locality,source_url,"
        "electronic_services,mail_rules,max_letter_pages"
    )
    assert lines[1].startswith("f-1,ИК-3,ФКУ ИК-3 УФСИН России по Владимирской области,colony,")
    assert ",'=1+1," in lines[1]


def test_json_export_is_a_wrapped_list(runner):
    make_facility(external_id="f-1", max_letter_pages=4)

    result = runner.invoke(args=["export", "facilities", "--format", "json"])

    document = json.loads(result.output)
    assert document["facilities"][0]["external_id"] == "f-1"
    assert document["facilities"][0]["max_letter_pages"] == 4


def test_demo_records_are_not_exported(runner):
    make_facility(external_id="demo-f-x", is_demo=True)

    result = runner.invoke(args=["export", "facilities"])

    assert "demo-f-x" not in result.output


# Web pages ---------------------------------------------------------------------------------

UPLOAD_GONE = "That upload has expired (files are kept for an hour). Upload the file again."


def upload(client, kind: str, name: str, data: bytes | None = None):
    content = data if data is not None else (DATA / name).read_bytes()
    return submit(
        client,
        "/manage/import/",
        {"kind": kind, "file": FileStorage(io.BytesIO(content), filename=name)},
        action="/manage/import/preview",
    )


def confirm_token(html: str) -> str:
    marker = 'name="token" type="hidden" value="'
    assert marker in html, "no confirm button"
    return html.split(marker, 1)[1].split('"', 1)[0]


def test_web_preview_then_confirm_imports_the_file(client, organizer):
    log_in(client, organizer)
    index = client.get("/manage/import/")
    assert index.status_code == 200
    assert "/manage/import/export/prisoners.csv" in index.get_data(as_text=True)

    preview = upload(client, "facilities", "facilities_utf8_bom_semicolon.csv")
    html = preview.get_data(as_text=True)

    assert preview.status_code == 200
    assert "3 to create, 0 to update, 0 unchanged, 0 refused" in html
    assert "Import these 3 rows" in html
    assert "line 2: ИК-3 — ФКУ ИК-3 УФСИН России по Владимирской области [vlad-ik3]" in html
    assert count(Facility) == 0  # the preview is a dry run
    token = confirm_token(html)
    assert count(ImportUpload) == 1 and count(StoredFile) == 1  # kept for the confirmation

    done = submit(client, preview, {"token": token}, action="/manage/import/confirm")

    assert done.status_code == 200
    assert flashed(done) == ["Imported: 3 created, 0 updated."]
    assert "3 created, 0 updated, 0 unchanged, 0 refused" in done.get_data(as_text=True)
    assert count(Facility) == 3
    assert count(ImportUpload) == 0 and count(StoredFile) == 0  # deleted after use
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.entity_id.is_not(None)))
    assert entry.user_id == organizer.id
    assert entry.changes["via"] == "web"
    again = submit(client, preview, {"token": token}, action="/manage/import/confirm")
    assert flashed(follow(client, again)) == [UPLOAD_GONE]  # used up: upload again
    assert count(Facility) == 3


def test_web_preview_of_a_bad_file_lists_refused_lines_and_offers_no_import(client, organizer):
    make_facility(external_id="vlad-ik3")
    log_in(client, organizer)

    preview = upload(client, "prisoners", "prisoners_bad_dates.csv")
    html = preview.get_data(as_text=True)

    assert preview.status_code == 422
    assert "birth_date: “2023-02-30” is not a real date" in html
    assert "Nothing was imported because 2 rows were refused." in html
    assert 'name="token"' not in html
    assert count(ImportUpload) == 0 and count(StoredFile) == 0


def test_web_report_escapes_what_the_file_says(client, organizer):
    log_in(client, organizer)
    hostile = (
        "external_id,code,name,kind,region,postcode,address\n"
        "x,<b>ИК</b>,<script>alert(1)</script>,<img src=x>,Область,601120,ул. Ленина\n"
    ).encode()

    html = upload(client, "facilities", "f.csv", hostile).get_data(as_text=True)

    assert "<script>alert(1)</script>" not in html
    assert "<img src=x>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "kind: “&lt;img src=x&gt;” is not one of" in html


def test_web_refuses_a_file_over_5_mb(client, organizer):
    log_in(client, organizer)

    response = upload(client, "facilities", "big.csv", b"x" * (5 * 1024 * 1024 + 1))

    assert response.status_code == 422
    assert "The file is larger than 5 MB" in response.get_data(as_text=True)


def test_web_export_download(client, organizer):
    make_facility(external_id="f-1")
    log_in(client, organizer)

    response = client.get("/manage/import/export/facilities.csv")

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"  # the charset once
    assert response.headers["Content-Disposition"].startswith("attachment; filename=")
    assert response.data.startswith(b"external_id,code,")  # plain UTF-8 by default
    make_prisoner(make_facility(external_id="f-2"), external_id="p-1")
    prisoners = client.get("/manage/import/export/prisoners.csv").get_data(as_text=True)
    assert next(csv.DictReader(io.StringIO(prisoners)))["accepts_letters"] == "true"

    for_spreadsheets = client.get("/manage/import/export/facilities.csv?bom=1")
    assert for_spreadsheets.data.startswith(b"\xef\xbb\xbfexternal_id,code,")
    assert "?bom=1" in client.get("/manage/import/").get_data(as_text=True)


def test_someone_elses_upload_cannot_be_confirmed(client, organizer, admin):
    data = (DATA / "facilities_cp1251_comma.csv").read_bytes()
    token = store_upload(admin.id, "facilities", "f.csv", data, utcnow())
    log_in(client, organizer)

    response = submit(client, "/manage/import/", {"token": token}, action="/manage/import/confirm")

    assert flashed(follow(client, response)) == [UPLOAD_GONE]
    assert count(Facility) == 0


@pytest.mark.parametrize("path", ["/manage/import/", "/manage/import/export/facilities.csv"])
def test_anonymous_visitors_are_sent_to_log_in(client, path):
    response = client.get(path)

    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


# Small rules -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "street", "locality"),
    [
        ("ул. Ленина, д. 12, г. Покров", "ул. Ленина, д. 12", "г. Покров"),
        ("г. Покров, ул. Ленина, д. 12", "ул. Ленина, д. 12", "г. Покров"),
        ("ул. Центральная, д. 1, с. Ивановка", "ул. Центральная, д. 1", "с. Ивановка"),
        ("ул. Ленина, д. 12, стр. 2", "ул. Ленина, д. 12, стр. 2", ""),
        ("Промзона, 5", "Промзона, 5", ""),
    ],
)
def test_split_address(address, street, locality):
    assert split_address(address) == (street, locality)
