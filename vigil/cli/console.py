"""Commands of the review console: serve it (`vigil console`) and manage its accounts (`vigil users`)."""
from __future__ import annotations

import getpass
import sys

from vigil.cli.common import AddCommand, settings_of


def cmd_console(args) -> int:
    import uvicorn

    from streams.stores import SearchQuery
    from vigil.console.app import create_app

    settings = settings_of(args)
    host = args.host or settings.console.host
    port = args.port or settings.console.port
    app = create_app(settings)
    store = app.state.console.store
    awaiting = store.search(SearchQuery(flagged=True, review_status="unreviewed", limit=1)).total
    print(f"Vigil review console on http://{host}:{port} over the {store.name} store "
          f"(accounts: `vigil users list`)\n"
          f"start reviewing: http://{host}:{port}/queues/flagged ({awaiting} flagged item"
          f"{'' if awaiting == 1 else 's'} awaiting review)", flush=True)
    # X-Forwarded-For is not believed: the login throttle counts by the address the connection comes from.
    uvicorn.run(app, host=host, port=port, log_level=settings.log_level.lower(), proxy_headers=False,
                server_header=False)
    return 0


def _accounts(args):
    from vigil.console.auth import Accounts
    from vigil.console.db import ConsoleDB, console_db_path

    settings = settings_of(args)
    return Accounts(ConsoleDB(console_db_path(settings)))


def cmd_users(args) -> int:
    from vigil.console.auth import AccountError, read_password_file

    accounts = _accounts(args)
    try:
        if args.action == "list":
            users = accounts.list()
            for user in users:
                print(f"{user.name:24s} {user.role:9s} {'disabled' if user.disabled else 'active':8s} "
                      f"since {user.created_at}")
            if not users:
                print("no console accounts yet: `vigil users add NAME --role analyst`")
            return 0
        if not args.name:
            print(f"vigil users {args.action}: give the account's NAME", file=sys.stderr)
            return 2
        if args.action == "disable":
            accounts.disable(args.name)
            print(f"disabled {args.name}; their console sessions have ended")
            return 0
        if args.password_file:
            password = read_password_file(args.password_file)
        else:
            password = getpass.getpass(f"password for {args.name}: ")
            if getpass.getpass("again: ") != password:
                print("vigil users add: the passwords differ; nothing was added", file=sys.stderr)
                return 2
        user = accounts.add(args.name, args.role, password)
        print(f"added {user.name} ({user.role}); they log in at the console (`vigil console`)")
        return 0
    except AccountError as exc:
        print(f"vigil users {args.action}: {exc}", file=sys.stderr)
        return 2
    finally:
        accounts.db.close()


def register(command: AddCommand) -> None:
    console = command("console", cmd_console, "Serve the review console: queues with claims, each document with "
                      "its evidence, decisions with reasons, operator pages (accounts: `vigil users add`).")
    console.add_argument("--host", help="address to listen on (default: console.host, 127.0.0.1)")
    console.add_argument("--port", type=int, help="port to listen on (default: console.port, 8420)")

    users = command("users", cmd_users, "Manage review console accounts: add (the password from a prompt or a file), "
                    "list, disable. Roles: analyst, operator, admin.")
    users.add_argument("action", choices=["add", "list", "disable"])
    users.add_argument("name", nargs="?", help="the account's name")
    users.add_argument("--role", choices=["analyst", "operator", "admin"], default="analyst",
                       help="add: analyst (reviews), operator (also the operator pages), admin (also accounts)")
    users.add_argument("--password-file", help="add: read the password from this file (its first line) instead "
                       "of a prompt")
