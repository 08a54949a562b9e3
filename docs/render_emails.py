"""Pictures of every email: each event type at `full` and `summary`, and a digest, as
PNG screenshots 360 px (a phone) and 600 px wide (the email's column), and one in dark
mode, by Debian's headless Chromium.

    python -m docs.render_emails [--out docs/emails]

The events are fixed (sample.py's, with a fixed date and case), so the pictures only
change when the templates do. Each PNG is reduced to a 64-colour palette with Pillow:
text on white loses nothing visible and the files stay small enough to commit.
"""

import argparse
import subprocess
import tempfile
from datetime import date
from pathlib import Path

from PIL import Image

from domain.compensation import PermissionLevel
from notifier.kinds.digest import Item, render_digest
from notifier.kinds.rendering import Footer, Renderer
from notifier.outbox.events import Event
from notifier.templating import email_environment
from notifier.workers.sample import sample_events

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--hide-scrollbars",
]
WIDTHS = {360: 1500, 600: 1100}  # width: window height (an email is read top down)
# prefers-color-scheme: dark, as a phone in dark mode reports it.
DARK = ["--force-dark-mode", "--blink-settings=preferredColorScheme=0"]
DARK_PAGE = "payment.disbursed.full"
BASE = "https://notifieringar.statlig-ersattning.example.se"


def events() -> list[Event]:
    fixed = {"occurred_at": "2026-11-26T10:15:00+01:00"}
    case = {"diarienummer": "1.1.3-2026-123456", "case_officer": "Lena Ek"}
    found = []
    for body in sample_events():
        body |= fixed | ({"case": case} if "case" in body else {})
        if "payment" in body:
            body["payment"] = body["payment"] | {"paid_on": "2026-11-25"}
        found.append(Event.model_validate(body))
    return found


def renderer() -> Renderer:
    return Renderer(
        email_environment(),
        eservice_url="https://e-tjanst.migrationsverket.se/statlig-ersattning",
        unsubscribe_url=lambda user, event_type: f"{BASE}/unsubscribe/exempel",
        preferences_url=lambda user: f"{BASE}/mina-notifieringar/exempel",
        footer=Footer(
            contact_email="etjanstkommuner@migrationsverket.se", support_url=f"{BASE}/support"
        ),
    )


def pages() -> dict[str, str]:
    """File name → the email's HTML part."""
    rendering = renderer()
    found = {}
    for event in events():
        for level in PermissionLevel:
            email = rendering.render(event, level=level, user_id="exempel")
            found[f"{event.event_type}.{level.value}"] = email.html
    items = [Item(event, PermissionLevel.SUMMARY) for event in events()[:3]]
    items += [Item(event, PermissionLevel.FULL) for event in events()[3:]]
    digest = render_digest(
        rendering, items, day=date(2026, 11, 27), preferences_url=f"{BASE}/mina-notifieringar/x"
    )
    found["digest"] = digest.html
    return found


def screenshot(
    html: Path, png: Path, width: int, *, tall: bool = False, dark: bool = False
) -> None:
    size = f"--window-size={width},{WIDTHS[width] * (2 if tall else 1)}"
    subprocess.run(
        [CHROMIUM, *FLAGS, *(DARK if dark else []), size, f"--screenshot={png}", html.as_uri()],
        check=True,
        capture_output=True,
        timeout=60,
    )
    with Image.open(png) as image:
        small = image.convert("RGB").quantize(colors=64)
    small.save(png, optimize=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/emails"))
    out: Path = parser.parse_args().out
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        for name, html in pages().items():
            page = Path(scratch) / f"{name}.html"
            page.write_text(html, encoding="utf-8")
            for width in WIDTHS:
                screenshot(page, out / f"{name}.{width}.png", width, tall=name == "digest")
                print(out / f"{name}.{width}.png")
            if name == DARK_PAGE:
                screenshot(page, out / f"{name}.dark.360.png", 360, dark=True)
                print(out / f"{name}.dark.360.png")


if __name__ == "__main__":
    main()
