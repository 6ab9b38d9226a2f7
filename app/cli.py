"""The `coursepipeline` command: serve, migrate, demo, token, create-org, create-key, prune, quickstart."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import uuid
from datetime import datetime

from app.settings import Settings, SettingsError, embedded_jwt_secret


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except SettingsError as exc:
        sys.exit(f"configuration error: {exc}")


def cmd_migrate(args: argparse.Namespace) -> None:
    from db.migrate import upgrade

    settings = _settings()
    upgrade(settings.database_url)
    print(f"database is at the latest schema ({_safe_url(settings.database_url)})")


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


async def _with_db(settings: Settings, work):
    from db.engine import Database

    db = Database.from_url(settings.database_url)
    try:
        return await work(db)
    finally:
        await db.dispose()


def cmd_demo(args: argparse.Namespace) -> None:
    from app.demo import demo_exists, load_demo

    settings = _settings()

    async def work(db):
        async with db.write() as conn:
            if await demo_exists(conn) and not args.force:
                print("the database already holds data; demo not loaded (use --force to add it anyway)")
                return
            await load_demo(conn, learners_count=args.learners)
            print(f"demo organization loaded ({args.learners} learners)")

    asyncio.run(_with_db(settings, work))


def cmd_token(args: argparse.Namespace) -> None:
    from access.tokens import mint_local_token

    settings = _settings()
    if settings.supabase_url and not settings.supabase_jwt_secret:
        sys.exit("tokens come from Supabase Auth here (SUPABASE_URL is set); `token` only signs with a local secret")
    print(mint_local_token(embedded_jwt_secret(settings), args.email, hours=args.hours))


async def _create_key(db, org_id: uuid.UUID, name: str, created_by: str | None, expires_at=None):
    from access import keys
    from db.queries import api_keys

    new = keys.generate()
    async with db.write() as conn:
        await api_keys.insert_key(
            conn, org_id, name=name, prefix=new.prefix, key_hash=new.hash, created_by=created_by, expires_at=expires_at
        )
    return new.secret


def cmd_login_link(args: argparse.Namespace) -> None:
    """A one-time link that signs a browser in (embedded mode); it expires after 15 minutes or one use."""
    from access.login_links import create_link

    settings = _settings()
    if settings.supabase_url:
        sys.exit("sign-in goes through Supabase here (SUPABASE_URL is set); login links are for embedded mode")

    async def work(db):
        return await create_link(db, args.email, args.base_url)

    print(asyncio.run(_with_db(settings, work)))


def cmd_create_org(args: argparse.Namespace) -> None:
    """An operator's way in: an organization, its owner and a first API key."""
    from access.tokens import local_user_id
    from db.queries.organizations import create_organization

    settings = _settings()
    owner_id = args.owner_id or local_user_id(args.owner_email)

    async def work(db):
        async with db.write() as conn:
            org = await create_organization(conn, args.name, owner_user_id=owner_id, owner_email=args.owner_email)
        secret = await _create_key(db, org["id"], args.key_name, f"cli:{owner_id}")
        print(f"organization: {org['id']} ({args.name})\nowner: {args.owner_email} (user id {owner_id})")
        print(f"API key (shown once): {secret}")

    asyncio.run(_with_db(settings, work))


def cmd_quickstart(args: argparse.Namespace) -> None:
    """What `make run` does before serving: migrate, load the demo once, and print a first call that works."""
    from sqlalchemy import select, update

    from access.login_links import create_link
    from access.tokens import mint_local_token
    from app.demo import DEMO_EMAIL, demo_exists, load_demo
    from db.migrate import upgrade
    from db.queries.api_keys import api_keys
    from db.queries.organizations import organizations
    from db.types import utcnow

    settings = _settings()
    upgrade(settings.database_url)

    async def work(db):
        async with db.write() as conn:
            if not await demo_exists(conn):
                await load_demo(conn)
                print("Loaded the demo organization (first run).")
            org_id = (
                await conn.execute(
                    select(organizations.c.id).order_by(organizations.c.is_demo.desc(), organizations.c.created_at)
                )
            ).scalar()
            # One quickstart key at a time: the one printed last time is revoked, since it cannot be shown again.
            replaced = (
                (
                    await conn.execute(
                        update(api_keys)
                        .where(api_keys.c.name == "quickstart (make run)", api_keys.c.revoked_at.is_(None))
                        .values(revoked_at=utcnow())
                        .returning(api_keys.c.prefix)
                    )
                )
                .scalars()
                .all()
            )
        secret = await _create_key(db, org_id, "quickstart (make run)", "cli:quickstart")
        link = None if settings.supabase_url else await create_link(db, DEMO_EMAIL, base)
        return secret, link, replaced

    base = f"http://{args.host}:{args.port}"
    secret, link, replaced = asyncio.run(_with_db(settings, work))
    if replaced:
        prefixes = ", ".join(f"{prefix}…" for prefix in replaced)
        print(f"Revoked the quickstart key an earlier `make run` printed ({prefixes}); use the new one below.")
    token = mint_local_token(embedded_jwt_secret(settings), DEMO_EMAIL) if not settings.supabase_url else None
    print(
        f"""
CoursePipeline is starting at {base}

  API key (demo organization, shown once):  {secret}

  First call:
    curl -s -H "X-API-Key: {secret}" {base}/api/courses

  Web UI, signed in as {DEMO_EMAIL} (one-time link, 15 minutes):
    {link or f"{base}/login"}

  API docs (Authorize with the key):  {base}/api/docs
  GraphQL / GraphiQL:                 {base}/graphql
  Health:                             {base}/health"""
    )
    if token:
        print(f"\n  User token for {DEMO_EMAIL} (manages API keys, valid 24 h):")
        print(f"    export TOKEN={token}")
        print(f'    curl -s -H "Authorization: Bearer $TOKEN" {base}/api/api-keys')
    print()


def cmd_prune(args: argparse.Namespace) -> None:
    from db.idempotency import prune

    settings = _settings()

    async def work(db):
        async with db.write() as conn:
            return await prune(conn)

    print(f"{asyncio.run(_with_db(settings, work))} expired idempotency keys deleted")


def cmd_serve(args: argparse.Namespace) -> None:
    import uvicorn

    from app.collector import tune_for_serving
    from app.logging import JSONLines, install_redaction, log_config
    from app.main import create_app

    settings = _settings()
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s")
    if settings.log_format == "json":
        for handler in logging.getLogger().handlers:
            handler.setFormatter(JSONLines())
    logging_config = log_config(settings.log_format)
    if args.workers > 1:
        if settings.is_sqlite:
            sys.exit("several workers need PostgreSQL (DATABASE_URL): SQLite takes one writer process")
        if settings.rate_limit_enabled and not settings.redis_url:
            print("warning: without REDIS_URL each worker keeps its own rate-limit budget", file=sys.stderr)
        uvicorn.run("app.asgi:build", factory=True, host=args.host, port=args.port, workers=args.workers,
                    log_level=settings.log_level, proxy_headers=True, timeout_keep_alive=5,
                    log_config=logging_config)  # fmt: skip
        return
    app = create_app(settings)
    tune_for_serving()
    # An idle keep-alive connection is closed after 5 s. uvicorn has no deadline for a request's headers: in
    # production a reverse proxy belongs in front (README, "Running in production").
    config = uvicorn.Config(
        app,
        host=args.host,
        port=args.port,
        log_level=settings.log_level,
        proxy_headers=True,
        timeout_keep_alive=5,
        log_config=logging_config,
    )
    server = uvicorn.Server(config)
    install_redaction()  # again, now that uvicorn has configured its own handlers
    original_startup = server.startup

    async def startup(sockets=None):
        await original_startup(sockets)
        install_redaction()

    server.startup = startup  # type: ignore[method-assign]  # uvicorn has no after-startup hook: redaction must follow its handlers
    server.run()


def _time(value: str) -> datetime:
    from schema.scalars import parse_time

    return parse_time(value)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="coursepipeline", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="serve the API (uvicorn)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1, help="worker processes (PostgreSQL; Redis for shared limits)")
    serve.set_defaults(func=cmd_serve)

    sub.add_parser("migrate", help="apply database migrations").set_defaults(func=cmd_migrate)

    demo = sub.add_parser("demo", help="load the demo organization")
    demo.add_argument("--learners", type=int, default=200)
    demo.add_argument("--force", action="store_true", help="load even if the database holds data")
    demo.set_defaults(func=cmd_demo)

    token = sub.add_parser("token", help="print a user token signed with the configured secret (local use)")
    token.add_argument("--email", required=True)
    token.add_argument("--hours", type=float, default=24)
    token.set_defaults(func=cmd_token)

    login = sub.add_parser("login-link", help="print a one-time link that signs a browser in (embedded mode)")
    login.add_argument("--email", required=True)
    login.add_argument("--base-url", default="http://127.0.0.1:8000")
    login.set_defaults(func=cmd_login_link)

    org = sub.add_parser("create-org", help="create an organization with an owner and a first API key")
    org.add_argument("--name", required=True)
    org.add_argument("--owner-email", required=True)
    org.add_argument("--owner-id", help="the owner's Supabase user id (default: derived from the email)")
    org.add_argument("--key-name", default="first key")
    org.set_defaults(func=cmd_create_org)

    sub.add_parser("prune", help="delete expired idempotency keys").set_defaults(func=cmd_prune)

    quick = sub.add_parser("quickstart", help="migrate, load the demo once, print a first call")
    quick.add_argument("--host", default="127.0.0.1")
    quick.add_argument("--port", type=int, default=8000)
    quick.set_defaults(func=cmd_quickstart)

    args = parser.parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()
