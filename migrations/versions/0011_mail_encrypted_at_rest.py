"""Mail at rest: addresses, links and queued mail stored only encrypted (issue 15).

Reviewed by hand. What the server keeps to send mail later is encrypted with the instance key
(app.privacy.instance.encrypt_for_instance, AES-GCM under a key derived from the master key,
each field bound to its row and name), and the one-click links are found by keyed hashes
(app.privacy.instance.link_hash):

- reminder_subscription: email, the letter's tracking link and the delete link become
  email_encrypted, letter_link_encrypted and token_encrypted; token_hash (unique) finds the
  delete link. The letter's raw link comes from letter.token, which the letters' migration
  (0012, next) drops only after this one has run (or from reminder_subscription.letter_token,
  should a database have lost letter.token some other way). A subscription whose
  letter's link is in neither place cannot send its reminders and is deleted, with its mail.
- follow: email and the unfollow link become email_encrypted and token_encrypted; token_hash
  (unique) finds the link, address_hash (a keyed hash of the prisoner and the address) keeps
  one follow per address and prisoner.
- outbox_message: recipient, subject, body_text and body_html become content_encrypted (one
  blob; NULL for messages whose content was already pruned).
- The times of supporters' actions (subscribed, confirmation asked, confirmed) are cut to the
  hour.

It runs inside the app (flask db upgrade), which has the master key; the formats and contexts
are written out here, not imported from the models, which may change later. On SQLite,
dropping columns recreates the tables, and dropping a table deletes the rows that reference it
(ON DELETE CASCADE, with foreign keys on): the outbox's ties to subscriptions are set aside
while the subscription tables are recreated, then put back.

The downgrade restores the plaintext columns (it needs the same master key) and drops the
encrypted ones, with the letters' links kept by subscriptions (the letters' table has its own).

Revision ID: 4d8f1b6e0c12
Revises: ad7765f7f3c3
Create Date: 2026-12-10 09:00:00.000000

"""
import json

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '4d8f1b6e0c12'
down_revision = 'ad7765f7f3c3'
branch_labels = None
depends_on = None

OUTBOX_CONTENT = "outbox_message:content"
OUTBOX_FIELDS = ("recipient", "subject", "body_text", "body_html")


def _reminder_context(letter_id, name):
    return f"reminder_subscription:{letter_id}:{name}"


def _follow_context(prisoner_id, token_hash, name):
    return f"follow:{prisoner_id}:{token_hash}:{name}"


def _table(name, *columns):
    """A table as this revision sees it (typed, so that times are read and written as times
    on SQLite too)."""
    types = {
        'id': sa.Integer, 'letter_id': sa.Integer, 'prisoner_id': sa.Integer,
        'created_at': sa.DateTime, 'confirm_requested_at': sa.DateTime,
        'confirmed_at': sa.DateTime, 'email_encrypted': sa.LargeBinary,
        'letter_link_encrypted': sa.LargeBinary, 'token_encrypted': sa.LargeBinary,
        'content_encrypted': sa.LargeBinary,
    }
    return sa.table(name, *(sa.column(c, types.get(c, sa.String)) for c in columns))


SUPPORTER_TIMES = ('created_at', 'confirm_requested_at', 'confirmed_at')


def _hour(moment):
    return None if moment is None else moment.replace(minute=0, second=0, microsecond=0)


def _columns(bind, table):
    return {column["name"] for column in sa.inspect(bind).get_columns(table)}


def _set_aside_outbox_ties(bind):
    """Untie outbox messages from subscriptions (see the docstring) and return the ties."""
    ties = bind.execute(sa.text(
        "SELECT id, reminder_id, follow_id FROM outbox_message "
        "WHERE reminder_id IS NOT NULL OR follow_id IS NOT NULL"
    )).all()
    bind.execute(sa.text("UPDATE outbox_message SET reminder_id = NULL, follow_id = NULL"))
    return ties


def _put_back_outbox_ties(bind, ties):
    for message_id, reminder_id, follow_id in ties:
        bind.execute(
            sa.text("UPDATE outbox_message SET reminder_id = :r, follow_id = :f WHERE id = :id"),
            {"r": reminder_id, "f": follow_id, "id": message_id},
        )


def _delete_subscription(bind, table, tie, row_id):
    bind.execute(sa.text(f"DELETE FROM outbox_message WHERE {tie} = :id"), {"id": row_id})
    bind.execute(sa.text(f"DELETE FROM {table} WHERE id = :id"), {"id": row_id})


def upgrade():
    from app.privacy.instance import encrypt_for_instance, link_hash

    bind = op.get_bind()
    with op.batch_alter_table('reminder_subscription', schema=None) as batch_op:
        batch_op.add_column(sa.Column('token_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('email_encrypted', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('letter_link_encrypted', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('token_encrypted', sa.LargeBinary(), nullable=True))
    with op.batch_alter_table('follow', schema=None) as batch_op:
        batch_op.add_column(sa.Column('token_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('address_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('email_encrypted', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('token_encrypted', sa.LargeBinary(), nullable=True))
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('content_encrypted', sa.LargeBinary(), nullable=True))

    # --- reminder subscriptions -----------------------------------------------------------
    stashed = 'letter_token' in _columns(bind, 'reminder_subscription')
    if 'token' in _columns(bind, 'letter'):
        links = dict(bind.execute(sa.text(
            "SELECT id, token FROM letter WHERE id IN (SELECT letter_id FROM reminder_subscription)"
        )).all())
    elif stashed:
        links = dict(bind.execute(sa.text(
            "SELECT letter_id, letter_token FROM reminder_subscription"
        )).all())
    else:
        links = {}
    reminders = _table(
        'reminder_subscription', 'id', 'letter_id', 'email', 'token', 'token_hash',
        'email_encrypted', 'letter_link_encrypted', 'token_encrypted', *SUPPORTER_TIMES,
    )
    rows = bind.execute(sa.select(
        reminders.c.id, reminders.c.letter_id, reminders.c.email, reminders.c.token,
        *(reminders.c[name] for name in SUPPORTER_TIMES),
    )).all()
    for row_id, letter_id, email, token, *times in rows:
        letter_token = links.get(letter_id)
        if not letter_token:
            _delete_subscription(bind, 'reminder_subscription', 'reminder_id', row_id)
            continue
        sealed = {
            f"{name.replace('-', '_')}_encrypted": encrypt_for_instance(
                value, context=_reminder_context(letter_id, name)
            )
            for name, value in (("email", email), ("letter-link", letter_token), ("token", token))
        }
        bind.execute(
            reminders.update()
            .where(reminders.c.id == row_id)
            .values(
                token_hash=link_hash(token, "reminder"),
                **sealed,
                **{name: _hour(moment) for name, moment in zip(SUPPORTER_TIMES, times)},
            )
        )

    # --- follows --------------------------------------------------------------------------
    follows = _table(
        'follow', 'id', 'prisoner_id', 'email', 'token', 'token_hash', 'address_hash',
        'email_encrypted', 'token_encrypted', *SUPPORTER_TIMES,
    )
    rows = bind.execute(sa.select(
        follows.c.id, follows.c.prisoner_id, follows.c.email, follows.c.token,
        *(follows.c[name] for name in SUPPORTER_TIMES),
    )).all()
    for row_id, prisoner_id, email, token, *times in rows:
        token_hash = link_hash(token, "follow")
        bind.execute(
            follows.update()
            .where(follows.c.id == row_id)
            .values(
                token_hash=token_hash,
                address_hash=link_hash(f"{prisoner_id}:{email.strip().lower()}", "follow-address"),
                email_encrypted=encrypt_for_instance(
                    email, context=_follow_context(prisoner_id, token_hash, "email")
                ),
                token_encrypted=encrypt_for_instance(
                    token, context=_follow_context(prisoner_id, token_hash, "token")
                ),
                **{name: _hour(moment) for name, moment in zip(SUPPORTER_TIMES, times)},
            )
        )

    # --- the outbox -----------------------------------------------------------------------
    rows = bind.execute(sa.text(
        "SELECT id, recipient, subject, body_text, body_html FROM outbox_message "
        "WHERE recipient <> ''"
    )).all()
    outbox = _table('outbox_message', 'id', 'content_encrypted')
    for row_id, *values in rows:
        content = json.dumps(dict(zip(OUTBOX_FIELDS, values)), ensure_ascii=False)
        bind.execute(
            outbox.update()
            .where(outbox.c.id == row_id)
            .values(content_encrypted=encrypt_for_instance(content, context=OUTBOX_CONTENT))
        )

    # --- the plaintext goes -----------------------------------------------------------------
    ties = _set_aside_outbox_ties(bind)
    with op.batch_alter_table('reminder_subscription', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_reminder_subscription_token'), type_='unique')
        batch_op.drop_column('email')
        batch_op.drop_column('token')
        if stashed:
            batch_op.drop_column('letter_token')
        for column in ('token_hash',):
            batch_op.alter_column(column, existing_type=sa.String(length=64), nullable=False)
        for column in ('email_encrypted', 'letter_link_encrypted', 'token_encrypted'):
            batch_op.alter_column(column, existing_type=sa.LargeBinary(), nullable=False)
        batch_op.create_unique_constraint(
            batch_op.f('uq_reminder_subscription_token_hash'), ['token_hash']
        )
    with op.batch_alter_table('follow', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_follow_token'), type_='unique')
        batch_op.drop_column('email')
        batch_op.drop_column('token')
        for column in ('token_hash', 'address_hash'):
            batch_op.alter_column(column, existing_type=sa.String(length=64), nullable=False)
        for column in ('email_encrypted', 'token_encrypted'):
            batch_op.alter_column(column, existing_type=sa.LargeBinary(), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_follow_token_hash'), ['token_hash'])
        batch_op.create_index(batch_op.f('ix_follow_address_hash'), ['address_hash'], unique=False)
    _put_back_outbox_ties(bind, ties)
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        for column in OUTBOX_FIELDS:
            batch_op.drop_column(column)


def downgrade():
    from app.privacy.instance import decrypt_for_instance

    bind = op.get_bind()
    with op.batch_alter_table('reminder_subscription', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email', sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column('token', sa.String(length=64), nullable=True))
    with op.batch_alter_table('follow', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email', sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column('token', sa.String(length=64), nullable=True))
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('recipient', sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column('subject', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('body_text', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('body_html', sa.Text(), nullable=True))

    rows = bind.execute(sa.text(
        "SELECT id, letter_id, email_encrypted, token_encrypted FROM reminder_subscription"
    )).all()
    for row_id, letter_id, email, token in rows:
        bind.execute(
            sa.text("UPDATE reminder_subscription SET email = :email, token = :token WHERE id = :id"),
            {
                "email": decrypt_for_instance(
                    bytes(email), context=_reminder_context(letter_id, "email")
                ),
                "token": decrypt_for_instance(
                    bytes(token), context=_reminder_context(letter_id, "token")
                ),
                "id": row_id,
            },
        )
    rows = bind.execute(sa.text(
        "SELECT id, prisoner_id, token_hash, email_encrypted, token_encrypted FROM follow"
    )).all()
    for row_id, prisoner_id, token_hash, email, token in rows:
        bind.execute(
            sa.text("UPDATE follow SET email = :email, token = :token WHERE id = :id"),
            {
                "email": decrypt_for_instance(
                    bytes(email), context=_follow_context(prisoner_id, token_hash, "email")
                ),
                "token": decrypt_for_instance(
                    bytes(token), context=_follow_context(prisoner_id, token_hash, "token")
                ),
                "id": row_id,
            },
        )
    rows = bind.execute(sa.text("SELECT id, content_encrypted FROM outbox_message")).all()
    for row_id, blob in rows:
        if blob is None:
            fields = dict.fromkeys(OUTBOX_FIELDS, "")
        else:
            fields = json.loads(decrypt_for_instance(bytes(blob), context=OUTBOX_CONTENT))
        bind.execute(
            sa.text(
                "UPDATE outbox_message SET recipient = :recipient, subject = :subject, "
                "body_text = :body_text, body_html = :body_html WHERE id = :id"
            ),
            {**fields, "id": row_id},
        )

    ties = _set_aside_outbox_ties(bind)
    with op.batch_alter_table('reminder_subscription', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_reminder_subscription_token_hash'), type_='unique')
        for column in ('token_hash', 'email_encrypted', 'letter_link_encrypted', 'token_encrypted'):
            batch_op.drop_column(column)
        batch_op.alter_column('email', existing_type=sa.String(length=254), nullable=False)
        batch_op.alter_column('token', existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_reminder_subscription_token'), ['token'])
    with op.batch_alter_table('follow', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_follow_address_hash'))
        batch_op.drop_constraint(batch_op.f('uq_follow_token_hash'), type_='unique')
        for column in ('token_hash', 'address_hash', 'email_encrypted', 'token_encrypted'):
            batch_op.drop_column(column)
        batch_op.alter_column('email', existing_type=sa.String(length=254), nullable=False)
        batch_op.alter_column('token', existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_follow_token'), ['token'])
    _put_back_outbox_ties(bind, ties)
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_column('content_encrypted')
        batch_op.alter_column('recipient', existing_type=sa.String(length=254), nullable=False)
        batch_op.alter_column('subject', existing_type=sa.String(length=200), nullable=False)
        batch_op.alter_column('body_text', existing_type=sa.Text(), nullable=False)
        batch_op.alter_column('body_html', existing_type=sa.Text(), nullable=False)
