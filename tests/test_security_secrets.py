"""The signing key and the files that hold personal data (issue 10, #5 and #13)."""

import multiprocessing
import stat
from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlalchemy import text

from notifier import db
from notifier.settings import Settings
from notifier.web.security import signing_key


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("key", ["", "short", "x" * 31, "å" * 15])
def test_a_secret_key_under_32_bytes_refuses_to_start(key: str) -> None:
    with pytest.raises(ValidationError, match="at least 32 bytes"):
        Settings(secret_key=key)


def test_an_empty_secret_key_in_the_environment_refuses_to_start(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NOTIFIER_SECRET_KEY", "")
    with pytest.raises(ValidationError, match="NOTIFIER_SECRET_KEY"):
        Settings()


def test_a_32_byte_key_is_used_as_given() -> None:
    assert signing_key(Settings(secret_key="k" * 32)) == b"k" * 32


def test_the_key_file_is_private_and_kept(tmp_path: Path) -> None:
    settings = Settings(mail_dir=tmp_path / "var" / "mail")
    first = signing_key(settings)
    assert len(first) >= 32
    assert mode_of(tmp_path / "var" / "secret_key") == 0o600
    assert mode_of(tmp_path / "var") == 0o700
    assert signing_key(settings) == first
    assert [p.name for p in (tmp_path / "var").iterdir()] == ["secret_key"]


def _start(
    var: str, barrier: "multiprocessing.synchronize.Barrier", keys: "multiprocessing.Queue[bytes]"
) -> None:
    barrier.wait()
    keys.put(signing_key(Settings(mail_dir=Path(var) / "mail")))


def test_first_starts_at_the_same_moment_agree_on_one_key(tmp_path: Path) -> None:
    context = multiprocessing.get_context("fork")
    for trial in range(15):
        var, starts = tmp_path / str(trial), 4
        barrier, keys = context.Barrier(starts), context.Queue()
        processes = [
            context.Process(target=_start, args=(str(var), barrier, keys)) for _ in range(starts)
        ]
        for process in processes:
            process.start()
        found = {keys.get(timeout=10) for _ in processes}
        for process in processes:
            process.join(timeout=10)
        assert found == {(var / "secret_key").read_bytes().strip()}, f"trial {trial}"


async def test_the_sqlite_database_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    engine = db.create_engine(f"sqlite:///{tmp_path}/var/notifier.db")
    try:
        async with engine.begin() as connection:
            await connection.execute(text("CREATE TABLE t (x TEXT)"))
            await connection.execute(text("INSERT INTO t VALUES ('Anna')"))
    finally:
        await engine.dispose()
    files = list((tmp_path / "var").iterdir())
    assert "notifier.db" in {f.name for f in files}
    assert {f.name: mode_of(f) for f in files} == {f.name: 0o600 for f in files}
    assert mode_of(tmp_path / "var") == 0o700
