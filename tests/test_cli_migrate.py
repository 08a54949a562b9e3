"""`notifier migrate` as an operator runs it: a real process on a fresh SQLite file."""

import os
import sqlite3
import subprocess
import sys
from pathlib import Path


def test_migrate_creates_the_database_folder_and_schema(tmp_path: Path) -> None:
    database = tmp_path / "nested" / "notifier.db"
    env = os.environ | {"NOTIFIER_DATABASE_URL": f"sqlite:///{database}"}
    result = subprocess.run(
        [sys.executable, "-m", "notifier", "migrate"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    tables = {row[0] for row in sqlite3.connect(database).execute("SELECT name FROM sqlite_master")}
    assert {"users", "permission_grants", "subscriptions", "outbox", "tickets"} <= tables
