"""Backups: `flask backup create DIR` and `flask backup restore DIR`.

A backup is a folder (mode 0700, files 0600) holding a consistent copy of the database (the
SQLite online backup API, or `pg_dump --format=custom` on PostgreSQL), the SQLite job queue
when there is one, the instance's secrets, and ``manifest.json`` with a checksum of each file.
It holds the secret key: keep it as safe as the server itself. See the README, "Backups".
"""
