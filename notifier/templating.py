"""The Jinja2 environments, one per folder of templates/, made the same way: templates
ship with the code, so they are not checked for changes on disk before every render (two
system calls each time, 15 % of the sender's rendering); StrictUndefined turns a missing
variable into a failing test instead of a blank in someone's inbox. notifier.compose
builds them once and hands them down."""

from dataclasses import dataclass
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from domain.swedish import antal, datum, klockslag, kronor
from notifier.kinds.markdown import markdown
from notifier.kinds.rendering import paragraphs


def environment(folder: str, **options: Any) -> Environment:
    return Environment(
        loader=PackageLoader("templates", folder),
        auto_reload=False,
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        **options,
    )


def email_environment() -> Environment:
    """The emails' text parts are whitespace-exact: blocks leave no blank lines behind."""
    env = environment("email", trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters.update(
        kronor=kronor,
        datum=datum,
        klockslag=klockslag,
        paragraphs=paragraphs,
        markdown=markdown,
        antal=antal,
    )
    return env


@dataclass(frozen=True)
class Templates:
    email: Environment
    web: Environment  # the support form, the desk, Mina notifieringar
    unsubscribe: Environment


def build_templates() -> Templates:
    return Templates(email_environment(), environment("web"), environment("unsubscribe"))
