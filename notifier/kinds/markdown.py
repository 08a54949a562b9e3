"""A safe Markdown subset for announcements: paragraphs, line breaks, lists, emphasis and
links, never HTML of the writer's own (it is shown as text). A bare web address becomes a
link, as it does in the other emails' text (rendering.paragraphs)."""

import re

from markdown_it import MarkdownIt
from markupsafe import Markup

# A web address in running text; a sentence's closing punctuation is not part of it.
URL = re.compile(r"https?://[^\s<>\"]+[^\s<>\".,;:!?)\]'’”]")
_MARKDOWN = MarkdownIt("zero", {"breaks": True, "html": False}).enable(
    ["list", "link", "emphasis", "autolink", "newline"]
)
# Inline, as every email's HTML: mail clients drop style sheets. markdown-it writes these
# tags bare (the writer's own HTML is off), so each is found as written.
STYLES = {
    "<p>": '<p style="margin: 0 0 16px;">',
    "<ul>": '<ul style="margin: 0 0 16px; padding-left: 24px;">',
    "<ol>": '<ol style="margin: 0 0 16px; padding-left: 24px;">',
}
# A bare address: not already the target of a link, nor inside <…>.
_BARE = re.compile(r"(?<![(<\[\"])" + URL.pattern)


def markdown(text: str) -> Markup:
    linked = _BARE.sub(lambda match: f"<{match.group()}>", text.strip())
    # Safe: markdown-it escapes every character of the text, raw HTML being off.
    html = _MARKDOWN.render(linked)
    for tag, styled in STYLES.items():
        html = html.replace(tag, styled)
    return Markup(html)
