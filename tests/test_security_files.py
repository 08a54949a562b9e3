"""#13: the .eml files (personal data) and their folder are readable by the service alone."""

from pathlib import Path

from notifier.channels.files import FileChannel
from notifier.outbox.models import OutboxMessage


async def test_eml_files_and_their_folder_are_private(tmp_path: Path) -> None:
    folder = tmp_path / "mail"
    message = OutboxMessage(id=1, message_id="m1", kind="notification", recipient="a@b.se")
    assert await FileChannel(folder, "no-reply@example.se").deliver([message]) == {1: None}
    [eml] = folder.glob("*.eml")
    assert folder.stat().st_mode & 0o777 == 0o700
    assert eml.stat().st_mode & 0o777 == 0o600
