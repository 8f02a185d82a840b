"""Command line: the gateway server and its operator commands.

    python -m tools.gateway serve [--port N]               run the gateway (port 0: pick a free one)
    python -m tools.gateway terminal add ID --pin 1234      register a terminal; prints its secret once
    python -m tools.gateway terminal set-pin ID --pin 5678  change the supervisor PIN
    python -m tools.gateway terminal revoke ID | list
    python -m tools.gateway payments list [--terminal ID] [--status S] | show TERMINAL ORDER
    python -m tools.gateway refund TERMINAL ORDER AMOUNT [--refund-id ID]   operator refund (no PIN)
    python -m tools.gateway events [--terminal ID] [--order ORDER] [--limit N]
    python -m tools.gateway alerts [--all]
    python -m tools.gateway keys                            show (create) the merchant key pair
    python -m tools.gateway report --from D1 --to D2 [--terminal T] [--csv | --json]

Every command takes --config FILE (TOML; or GATEWAY_CONFIG) and --db PATH.
"""
import argparse
import asyncio
import json
import sys

from tools.gateway import config as config_mod
from tools.gateway import credentials, wallet_figures
from tools.gateway.currencies import format_amount


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tools.gateway", description="the merchant gateway")
    parser.add_argument("--config", help="TOML configuration file (default: $GATEWAY_CONFIG)")
    parser.add_argument("--db", help="SQLite database path (overrides the configuration)")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the gateway")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--no-reconcile", action="store_true", help="do not run the reconciler (tests)")

    term = sub.add_parser("terminal", help="manage terminals")
    tsub = term.add_subparsers(dest="action", required=True)
    add = tsub.add_parser("add")
    add.add_argument("terminal_id")
    add.add_argument("--pin", required=True, help="supervisor PIN for refunds (4-12 digits)")
    add.add_argument("--json", action="store_true", help="print {terminal_id, secret} as JSON")
    setpin = tsub.add_parser("set-pin")
    setpin.add_argument("terminal_id")
    setpin.add_argument("--pin", required=True)
    rev = tsub.add_parser("revoke")
    rev.add_argument("terminal_id")
    tsub.add_parser("list")

    pay = sub.add_parser("payments", help="inspect payments")
    psub = pay.add_subparsers(dest="action", required=True)
    plist = psub.add_parser("list")
    plist.add_argument("--terminal")
    plist.add_argument("--status")
    plist.add_argument("--limit", type=int, default=50)
    show = psub.add_parser("show")
    show.add_argument("terminal_id")
    show.add_argument("order_id")

    ref = sub.add_parser("refund", help="operator refund of a paid payment")
    ref.add_argument("terminal_id")
    ref.add_argument("order_id")
    ref.add_argument("amount", type=int, help="minor units")
    ref.add_argument("--refund-id", help="idempotency key (default: OP-<n>)")

    ev = sub.add_parser("events", help="the event log")
    ev.add_argument("--terminal")
    ev.add_argument("--order")
    ev.add_argument("--limit", type=int, default=100)

    al = sub.add_parser("alerts", help="late-payment alerts")
    al.add_argument("--all", action="store_true", help="include acknowledged ones")

    sub.add_parser("keys", help="print the merchant public key (creating the key pair if needed)")

    rep = sub.add_parser("report", help="sales, refunds and net per day, wallet and currency; settlement")
    rep.add_argument("--from", dest="date_from", required=True, metavar="YYYY-MM-DD", help="first UTC day")
    rep.add_argument("--to", dest="date_to", required=True, metavar="YYYY-MM-DD", help="last UTC day (inclusive)")
    rep.add_argument("--terminal", help="only this terminal's payments")
    form = rep.add_mutually_exclusive_group()
    form.add_argument("--csv", action="store_true", help="CSV (amounts in major units)")
    form.add_argument("--json", action="store_true", help="JSON (amounts in minor units)")

    args = parser.parse_args(argv)
    overrides = {}
    if args.db:
        overrides[("gateway", "db")] = args.db
    if getattr(args, "host", None):
        overrides[("gateway", "host")] = args.host
    if getattr(args, "port", None) is not None:
        overrides[("gateway", "port")] = args.port
    try:
        cfg = config_mod.load(args.config, overrides=overrides)
    except config_mod.ConfigError as e:
        print("config error:", e, file=sys.stderr)
        return 2
    handler = {"serve": cmd_serve, "terminal": cmd_terminal, "payments": cmd_payments, "refund": cmd_refund,
               "events": cmd_events, "alerts": cmd_alerts, "keys": cmd_keys, "report": cmd_report}[args.command]
    try:
        return handler(cfg, args) or 0
    except config_mod.ConfigError as e:
        print("config error:", e, file=sys.stderr)
        return 2


def _store(cfg):
    from tools.gateway.store import Store
    return Store(cfg["gateway"]["db"])


def cmd_serve(cfg, args):
    from tools.gateway.server import serve
    return serve(cfg, reconcile=not args.no_reconcile)


def cmd_terminal(cfg, args):
    store = _store(cfg)
    if args.action == "add":
        if not credentials.TERMINAL_ID_RE.fullmatch(args.terminal_id):
            print("a terminal id is 1-16 characters of A-Z a-z 0-9 _ -", file=sys.stderr)
            return 2
        if not credentials.valid_pin(args.pin):
            print("a PIN is 4-12 digits", file=sys.stderr)
            return 2
        if store.terminal(args.terminal_id) is not None:
            print("terminal %s already exists (ids are never reused)" % args.terminal_id, file=sys.stderr)
            return 1
        secret = credentials.new_secret()
        store.add_terminal(args.terminal_id, secret, credentials.hash_pin(args.pin))
        if args.json:
            print(json.dumps({"terminal_id": args.terminal_id, "secret": secret}))
        else:
            print("terminal %s added. Its secret (shown once; put it in the terminal's config):" % args.terminal_id)
            print(secret)
    elif args.action == "set-pin":
        if not credentials.valid_pin(args.pin):
            print("a PIN is 4-12 digits", file=sys.stderr)
            return 2
        if not store.set_pin_hash(args.terminal_id, credentials.hash_pin(args.pin)):
            print("no such terminal", file=sys.stderr)
            return 1
        print("PIN changed for", args.terminal_id)
    elif args.action == "revoke":
        if not store.revoke_terminal(args.terminal_id):
            print("no such active terminal", file=sys.stderr)
            return 1
        print("terminal %s revoked" % args.terminal_id)
    else:
        for row in store.terminals():
            beat = json.loads(row["heartbeat"]) if row["heartbeat"] else {}
            print("%-16s %-8s last_seen=%s version=%s" % (
                row["id"], "revoked" if row["revoked_at"] else "active", row["last_seen"], beat.get("version")))
    return 0


def _payment_line(row):
    return "%-16s %-24s %-9s %14s late=%d payment_id=%s" % (
        row["terminal_id"], row["order_id"], row["status"], format_amount(row["amount"], row["currency"]),
        row["late"], row["payment_id"])


def cmd_payments(cfg, args):
    store = _store(cfg)
    if args.action == "list":
        for row in store.payments(args.terminal, args.status, args.limit):
            print(_payment_line(row))
        return 0
    row = store.payment(args.terminal_id, args.order_id)
    if row is None:
        print("no such payment", file=sys.stderr)
        return 1
    out = {k: row[k] for k in row.keys() if k != "pay_body"}
    out.update(wallet_figures.record(row))
    out["refunds"] = [dict(r) for r in store.refunds_of(row["id"])]
    out["events"] = [{"at": e["at"], "kind": e["kind"], "detail": json.loads(e["detail"])}
                     for e in store.events(args.terminal_id, args.order_id)]
    print(json.dumps(out, indent=1))
    return 0


def cmd_refund(cfg, args):
    from tools.gateway.app import Gateway
    from tools.gateway.service import ServiceError

    async def run():
        gw = Gateway(cfg)
        try:
            row = gw.store.payment(args.terminal_id, args.order_id)
            if row is None:
                raise ServiceError(404, "NOT_FOUND", "no such payment")
            refund_id = args.refund_id or "OP-%d" % (len(gw.store.refunds_of(row["id"])) + 1)
            return await gw.service.refund(args.terminal_id, args.order_id, refund_id, args.amount)
        finally:
            await gw.stop()

    try:
        print(json.dumps(asyncio.run(run()), indent=1))
    except ServiceError as e:
        print("%s: %s" % (e.code, e.message), file=sys.stderr)
        return 1
    return 0


def cmd_events(cfg, args):
    store = _store(cfg)
    for e in store.events(args.terminal, args.order, args.limit):
        print("%d %.3f %-28s %-16s %-24s %s" % (e["id"], e["at"], e["kind"], e["terminal_id"] or "-",
                                                e["order_id"] or "-", e["detail"]))
    return 0


def cmd_alerts(cfg, args):
    store = _store(cfg)
    for a in store.alerts(include_acked=args.all):
        print("%d %-16s %-24s %s %s %s%s" % (a["id"], a["terminal_id"], a["order_id"],
                                              format_amount(a["amount"], a["currency"]), a["kind"], a["message"],
                                              " (acked)" if a["acked_at"] else ""))
    return 0


def cmd_report(cfg, args):
    from tools.gateway import report
    try:
        data = report.build(_store(cfg), args.date_from, args.date_to, args.terminal)
    except report.ReportError as e:
        print("report:", e, file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(data, indent=1))
    else:
        sys.stdout.write(report.as_csv(data) if args.csv else report.as_text(data))
    return 0


def cmd_keys(cfg, args):
    from tools.antom import signature
    from tools.gateway.app import load_keys
    try:
        private, _public = load_keys(cfg)
    except config_mod.ConfigError:
        from tools.antom.signature import load_private_key
        with open(cfg["antom"]["private_key_file"], "rb") as f:
            private = load_private_key(f.read())
    sys.stdout.write(signature.public_pem(private).decode())
    return 0


if __name__ == "__main__":
    sys.exit(main())
