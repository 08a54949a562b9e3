"""The `notifier` command (docs/contracts.md §4): the entry point that reads the environment."""

import argparse
import asyncio
import sys
from collections.abc import Collection, Sequence

import uvicorn

from notifier import commands as pipeline_commands
from notifier import db, logs, reachable, runtime
from notifier.app import create_app
from notifier.compose import Role, build_services
from notifier.helptexts import API, MIGRATE, SERVE, command
from notifier.settings import Settings


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    settings = Settings()
    logs.configure(settings.log_level)
    # A missing broker or database is the commonest first-run problem: one line that
    # names it and the variable to check, never a traceback (issue 14).
    try:
        reachable.preflight(settings, args.command)
        result: int = args.run(settings, args)
    except reachable.Unreachable as error:
        print(f"notifier {args.command}: {error}", file=sys.stderr)
        return reachable.EXIT_UNAVAILABLE
    except reachable.CONNECTION_ERRORS as error:
        print(f"notifier {args.command}: {reachable.explain(settings, error)}", file=sys.stderr)
        return reachable.EXIT_UNAVAILABLE
    return result


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="notifier",
        description="Notifieringar och supportvägledning för Ansök om statlig ersättning.",
    )
    commands = parser.add_subparsers(required=True, metavar="COMMAND", dest="command")

    for name, run, text, about in (
        ("serve", _serve, "all of it in one process: migrate, HTTP, consumer, sender", SERVE),
        ("api", _api, "only the HTTP API and web pages", API),
    ):
        http = command(commands, name, run, text, about)
        http.add_argument("--host", default="127.0.0.1", help="address to listen on")
        http.add_argument("--port", type=int, default=8000, help="port to listen on")
    command(commands, "migrate", _migrate, "upgrade the database to the newest schema", MIGRATE)
    pipeline_commands.add_commands(commands)
    return parser


def _http(settings: Settings, args: argparse.Namespace, *, roles: Collection[Role]) -> int:
    # Without a broker HTTP still serves; /readyz names "rabbitmq" until it answers.
    app = create_app(build_services(settings, roles=roles), migrate_on_start=True)
    # No proxy_headers: uvicorn would believe X-Forwarded-For from any loopback peer; the
    # app reads it only from NOTIFIER_TRUSTED_PROXIES (rate limits).
    config = uvicorn.Config(
        app, host=args.host, port=args.port, log_config=None, proxy_headers=False
    )
    runtime.settle()
    uvicorn.Server(config).run()
    return 0


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    return _http(settings, args, roles=(Role.CONSUME, Role.SEND))


def _api(settings: Settings, args: argparse.Namespace) -> int:
    return _http(settings, args, roles=())


def _migrate(settings: Settings, args: argparse.Namespace) -> int:
    async def run() -> None:
        engine = db.create_engine(settings.database_url)
        try:
            await db.migrate(engine)
        finally:
            await engine.dispose()

    asyncio.run(run())
    print("Databasen är uppgraderad till senaste schemat.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
