"""Privacy at rest: letters encrypted with a key from their link, links kept only as hashes.

Reviewed by hand. For every letter, while the raw tracking token is still in the database (the
last time the server ever has it), the upgrade:

- derives the letter's keys from its token (app.privacy.crypto.letter_keys) and stores its
  X25519 public key;
- encrypts its body, signature and kept sender address, and the notes and tracking numbers of
  its events, with its content key (the same contexts the models use);
- keeps a copy of the content key wrapped with the instance master key for a drive letter not
  yet reported sent (the organizers still have to print it), as attach_letter does;
- replaces the token with its keyed hash (app.privacy.instance.link_hash, purpose "letter").

Drive participants' links are hashed the same way; the link of each letter a participant wrote
is kept encrypted with a key from the participant's link. A drive's join link is hashed and
kept encrypted with the instance key (organizers are shown it again). The chunks of stored
files (print packs, import uploads) are encrypted with the instance key. Supporters' times
(letters written, events reported, participants joined) are cut to the hour.
An assignment's letter becomes NULL when its letter row is deleted.

The downgrade cannot give back what was written: the raw tokens are gone, and with them the
keys. It refuses while any letter or participant exists; on an empty database it restores the
old columns (and decrypts stored files and join links, which the instance key can read).

Revision ID: 9c3e5a7d2b11
Revises: 4d8f1b6e0c12
Create Date: 2026-12-07 18:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

from app.privacy.crypto import (
    decrypt_bytes,
    encrypt_bytes,
    encrypt_field,
    letter_keys,
    link_key,
)
from app.privacy.instance import (
    decrypt_for_instance,
    encrypt_for_instance,
    link_hash,
    stored_file_key,
    wrap_for_organisers,
)


# revision identifiers, used by Alembic.
revision = '9c3e5a7d2b11'
down_revision = '4d8f1b6e0c12'
branch_labels = None
depends_on = None

BATCH = 500  # rows per UPDATE round: bounded memory on a million events


def upgrade():
    with op.batch_alter_table('letter', schema=None) as batch_op:
        batch_op.add_column(sa.Column('token_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('public_key', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('body_encrypted', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('signature_encrypted', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('sender_address_encrypted', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('organisers_key', sa.LargeBinary(), nullable=True))
    with op.batch_alter_table('mail_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('note_encrypted', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('tracking_number_encrypted', sa.LargeBinary(), nullable=True))
    with op.batch_alter_table('drive', schema=None) as batch_op:
        batch_op.add_column(sa.Column('join_token_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('join_token_encrypted', sa.LargeBinary(), nullable=True))
    with op.batch_alter_table('drive_participant', schema=None) as batch_op:
        batch_op.add_column(sa.Column('token_hash', sa.String(length=64), nullable=True))
    with op.batch_alter_table('assignment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('letter_link_encrypted', sa.LargeBinary(), nullable=True))

    bind = op.get_bind()
    _encrypt_letters(bind)
    _hash_drive_links(bind)
    _encrypt_stored_files(bind, encrypt=True)
    _cut_to_the_hour(bind)

    with op.batch_alter_table('letter', schema=None) as batch_op:
        batch_op.drop_constraint('uq_letter_token', type_='unique')
        batch_op.drop_column('token')
        batch_op.drop_column('body')
        batch_op.drop_column('signature')
        batch_op.drop_column('sender_address')
        batch_op.create_unique_constraint(batch_op.f('uq_letter_token_hash'), ['token_hash'])
    with op.batch_alter_table('mail_event', schema=None) as batch_op:
        batch_op.drop_column('note')
        batch_op.drop_column('tracking_number')
    with op.batch_alter_table('drive', schema=None) as batch_op:
        batch_op.drop_constraint('uq_drive_join_token', type_='unique')
        batch_op.drop_column('join_token')
        batch_op.alter_column('join_token_hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column('join_token_encrypted', existing_type=sa.LargeBinary(), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_drive_join_token_hash'), ['join_token_hash'])
    with op.batch_alter_table('drive_participant', schema=None) as batch_op:
        batch_op.drop_constraint('uq_drive_participant_token', type_='unique')
        batch_op.drop_column('token')
        batch_op.alter_column('token_hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_drive_participant_token_hash'), ['token_hash'])
    with op.batch_alter_table('assignment', schema=None) as batch_op:
        batch_op.drop_constraint('fk_assignment_letter_id_letter', type_='foreignkey')
        batch_op.create_foreign_key(
            batch_op.f('fk_assignment_letter_id_letter'), 'letter', ['letter_id'], ['id'],
            ondelete='SET NULL',
        )


def _encrypt_letters(bind):
    sent = {
        row[0]
        for row in bind.execute(sa.text("SELECT DISTINCT letter_id FROM mail_event WHERE kind = 'sent'"))
    }
    content_keys = {}
    last_id = 0
    while True:
        rows = bind.execute(
            sa.text(
                "SELECT id, token, body, signature, sender_address, drive_id FROM letter "
                "WHERE id > :last ORDER BY id LIMIT :batch"
            ),
            {"last": last_id, "batch": BATCH},
        ).all()
        if not rows:
            break
        updates = []
        for letter_id, token, body, signature, sender_address, drive_id in rows:
            keys = letter_keys(token)  # ValueError for a malformed token: stop, change nothing
            key = keys.content_key
            content_keys[letter_id] = key
            in_organisers_hands = drive_id is not None and letter_id not in sent
            updates.append(
                {
                    "id": letter_id,
                    "token_hash": link_hash(token, "letter"),
                    "public_key": keys.public_key,
                    "body": encrypt_field(key, body, context="letter:body"),
                    "signature": encrypt_field(key, signature, context="letter:signature"),
                    "sender_address": None
                    if sender_address is None
                    else encrypt_field(key, sender_address, context="letter:sender-address"),
                    "organisers_key": wrap_for_organisers(key, context=f"letter:{letter_id}")
                    if in_organisers_hands
                    else None,
                }
            )
        bind.execute(
            sa.text(
                "UPDATE letter SET token_hash = :token_hash, public_key = :public_key, "
                "body_encrypted = :body, signature_encrypted = :signature, "
                "sender_address_encrypted = :sender_address, organisers_key = :organisers_key "
                "WHERE id = :id"
            ),
            updates,
        )
        last_id = rows[-1][0]
    # Notes and tracking numbers: what the writer typed about each report.
    reported = bind.execute(
        sa.text(
            "SELECT id, letter_id, note, tracking_number FROM mail_event "
            "WHERE (note IS NOT NULL AND note != '') OR tracking_number IS NOT NULL"
        )
    ).all()

    def encrypted(letter_id, value, context):
        if not value:
            return None
        return encrypt_field(content_keys[letter_id], value, context=context)

    if reported:
        bind.execute(
            sa.text(
                "UPDATE mail_event SET note_encrypted = :note, "
                "tracking_number_encrypted = :number WHERE id = :id"
            ),
            [
                {
                    "id": event_id,
                    "note": encrypted(letter_id, note, "mail-event:note"),
                    "number": encrypted(letter_id, number, "mail-event:tracking-number"),
                }
                for event_id, letter_id, note, number in reported
            ],
        )
    return content_keys


def _hash_drive_links(bind):
    drives = bind.execute(sa.text("SELECT id, join_token FROM drive")).all()
    if drives:
        bind.execute(
            sa.text(
                "UPDATE drive SET join_token_hash = :hash, join_token_encrypted = :encrypted "
                "WHERE id = :id"
            ),
            [
                {
                    "id": drive_id,
                    "hash": link_hash(token, "drive-join"),
                    "encrypted": encrypt_for_instance(token, context="drive:join-link"),
                }
                for drive_id, token in drives
            ],
        )
    participants = bind.execute(sa.text("SELECT id, token FROM drive_participant")).all()
    if participants:
        bind.execute(
            sa.text("UPDATE drive_participant SET token_hash = :hash WHERE id = :id"),
            [
                {"id": participant_id, "hash": link_hash(token, "drive-participant")}
                for participant_id, token in participants
            ],
        )
    written = bind.execute(
        sa.text(
            "SELECT assignment.id, drive_participant.token, letter.token FROM assignment "
            "JOIN drive_participant ON drive_participant.id = assignment.participant_id "
            "JOIN letter ON letter.id = assignment.letter_id"
        )
    ).all()
    if written:
        bind.execute(
            sa.text("UPDATE assignment SET letter_link_encrypted = :link WHERE id = :id"),
            [
                {
                    "id": assignment_id,
                    "link": encrypt_field(
                        link_key(participant_token, "drive-participant:letter-links"),
                        letter_token,
                        context="assignment:letter-link",
                    ),
                }
                for assignment_id, participant_token, letter_token in written
            ],
        )


def _encrypt_stored_files(bind, *, encrypt):
    key = stored_file_key()
    chunks = bind.execute(sa.text("SELECT file_id, seq FROM stored_file_chunk ORDER BY file_id, seq")).all()
    for file_id, seq in chunks:  # one at a time: a chunk is up to a mebibyte
        data = bind.execute(
            sa.text("SELECT data FROM stored_file_chunk WHERE file_id = :file AND seq = :seq"),
            {"file": file_id, "seq": seq},
        ).scalar_one()
        context = f"stored-file:{file_id}:{seq}"
        changed = (
            encrypt_bytes(key, bytes(data), context=context)
            if encrypt
            else decrypt_bytes(key, bytes(data), context=context)
        )
        bind.execute(
            sa.text("UPDATE stored_file_chunk SET data = :data WHERE file_id = :file AND seq = :seq"),
            {"data": changed, "file": file_id, "seq": seq},
        )


def _cut_to_the_hour(bind):
    columns = [("letter", "created_at"), ("mail_event", "reported_at"), ("drive_participant", "joined_at")]
    for table, column in columns:
        if bind.dialect.name == "postgresql":
            expression = f"date_trunc('hour', {column})"
        else:  # SQLAlchemy keeps SQLite datetimes as 'YYYY-MM-DD HH:MM:SS.ffffff'
            expression = f"strftime('%Y-%m-%d %H:00:00.000000', {column})"
        bind.execute(sa.text(f"UPDATE {table} SET {column} = {expression}"))  # noqa: S608 - fixed names


def downgrade():
    bind = op.get_bind()
    letters = bind.execute(sa.text("SELECT count(*) FROM letter")).scalar_one()
    participants = bind.execute(sa.text("SELECT count(*) FROM drive_participant")).scalar_one()
    if letters or participants:
        raise RuntimeError(
            "Cannot downgrade below 0011: letters are encrypted with keys from links the server "
            "no longer has, so the old plain-text columns cannot be filled. Restore a backup "
            "taken before the upgrade instead."
        )
    with op.batch_alter_table('assignment', schema=None) as batch_op:
        batch_op.drop_constraint('fk_assignment_letter_id_letter', type_='foreignkey')
        batch_op.create_foreign_key(
            batch_op.f('fk_assignment_letter_id_letter'), 'letter', ['letter_id'], ['id']
        )
        batch_op.drop_column('letter_link_encrypted')
    with op.batch_alter_table('drive_participant', schema=None) as batch_op:
        batch_op.drop_constraint('uq_drive_participant_token_hash', type_='unique')
        batch_op.drop_column('token_hash')
        batch_op.add_column(sa.Column('token', sa.String(length=64), nullable=False))
        batch_op.create_unique_constraint(batch_op.f('uq_drive_participant_token'), ['token'])
    with op.batch_alter_table('drive', schema=None) as batch_op:
        batch_op.add_column(sa.Column('join_token', sa.String(length=64), nullable=True))
    drives = bind.execute(sa.text("SELECT id, join_token_encrypted FROM drive")).all()
    for drive_id, encrypted in drives:
        bind.execute(
            sa.text("UPDATE drive SET join_token = :token WHERE id = :id"),
            {"id": drive_id, "token": decrypt_for_instance(bytes(encrypted), context="drive:join-link")},
        )
    with op.batch_alter_table('drive', schema=None) as batch_op:
        batch_op.drop_constraint('uq_drive_join_token_hash', type_='unique')
        batch_op.drop_column('join_token_encrypted')
        batch_op.drop_column('join_token_hash')
        batch_op.alter_column('join_token', existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_drive_join_token'), ['join_token'])
    with op.batch_alter_table('mail_event', schema=None) as batch_op:
        batch_op.drop_column('tracking_number_encrypted')
        batch_op.drop_column('note_encrypted')
        batch_op.add_column(sa.Column('note', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('tracking_number', sa.String(length=20), nullable=True))
    with op.batch_alter_table('letter', schema=None) as batch_op:
        batch_op.drop_constraint('uq_letter_token_hash', type_='unique')
        for column in ('organisers_key', 'sender_address_encrypted', 'signature_encrypted',
                       'body_encrypted', 'public_key', 'token_hash'):
            batch_op.drop_column(column)
        batch_op.add_column(sa.Column('token', sa.String(length=64), nullable=False))
        batch_op.add_column(sa.Column('body', sa.Text(), nullable=False))
        batch_op.add_column(sa.Column('signature', sa.String(length=200), nullable=False))
        batch_op.add_column(sa.Column('sender_address', sa.Text(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_letter_token'), ['token'])
    _encrypt_stored_files(bind, encrypt=False)
