"""Command line: the gateway server and its operator commands.

    python -m tools.gateway serve [--port N]               run the gateway (port 0: pick a free one)
    python -m tools.gateway terminal add ID [--json]       register a terminal; prints its secret once
    python -m tools.gateway terminal set-pin ID             change the supervisor PIN
        (PINs: typed at the prompt, or the first line of stdin, or $GATEWAY_PIN; never an argument)
    python -m tools.gateway terminal rotate-secret ID [--json]   new secret, the old one refused at once
    python -m tools.gateway terminal revoke ID | list [--json]
    python -m tools.gateway payments list [--terminal ID] [--status S] [--json] | show TERMINAL ORDER
    python -m tools.gateway refund TERMINAL ORDER AMOUNT [--refund-id ID]   operator refund (no PIN)
    python -m tools.gateway events [list] [--terminal ID] [--order ORDER] [--limit N] [--json] | verify
    python -m tools.gateway alerts [--all] [--json]
    python -m tools.gateway keys                            show (create) the merchant key pair
    python -m tools.gateway report --from D1 --to D2 [--terminal T] [--csv | --json]
    python -m tools.gateway merchant add|list|show|set|register ...; store add|list (merchant_cli.py)
    python -m tools.gateway terminal add ID --store S       a terminal of a merchant's store

Operator commands that read or change payments, terminals, events, alerts and reports take
--merchant M: only that merchant's are shown or touched (another merchant's are "no such ...").

Every command takes --config FILE (TOML; or GATEWAY_CONFIG) and --db PATH|URL (a SQLite file,
sqlite:///path, or postgresql://user@host/dbname).
"""
import argparse
import asyncio
import json
import os
import sys

from tools.gateway import config as config_mod
from tools.gateway import credentials, wallet_figures
from tools.gateway.currencies import format_amount
from tools.gateway.validation import visible


NO_SECRETS_ON_THE_COMMAND_LINE = (
    "PINs are not taken on the command line (ps and shell history would show them): type it at the "
    "prompt, pipe it on stdin, or set GATEWAY_PIN")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tools.gateway", description="the merchant gateway")
    parser.add_argument("--config", help="TOML configuration file (default: $GATEWAY_CONFIG)")
    parser.add_argument("--db", help="database: a SQLite file path, sqlite:///path, or postgresql://user@host/dbname "
                                     "(overrides the configuration)")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the gateway")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--no-reconcile", action="store_true", help="do not run the reconciler (tests)")

    term = sub.add_parser("terminal", help="manage terminals")
    tsub = term.add_subparsers(dest="action", required=True)
    add = tsub.add_parser("add", help="register a terminal (PIN from the prompt, stdin or $GATEWAY_PIN)")
    add.add_argument("terminal_id")
    add.add_argument("--json", action="store_true", help="print {terminal_id, secret} as JSON")
    add.add_argument("--pin", help=argparse.SUPPRESS)  # refused with a clear message
    add.add_argument("--store", help="the merchant's store it stands in (default: the configuration's store)")
    setpin = tsub.add_parser("set-pin", help="change the supervisor PIN (prompt, stdin or $GATEWAY_PIN)")
    setpin.add_argument("terminal_id")
    setpin.add_argument("--pin", help=argparse.SUPPRESS)
    rotate = tsub.add_parser("rotate-secret", help="give a terminal a new secret; the old one stops working")
    rotate.add_argument("terminal_id")
    rotate.add_argument("--json", action="store_true", help="print {terminal_id, secret} as JSON")
    rev = tsub.add_parser("revoke")
    rev.add_argument("terminal_id")
    tlist = tsub.add_parser("list")
    tlist.add_argument("--json", action="store_true")
    tlist.add_argument("--merchant", help="only this merchant's terminals")

    pay = sub.add_parser("payments", help="inspect payments")
    psub = pay.add_subparsers(dest="action", required=True)
    plist = psub.add_parser("list")
    plist.add_argument("--terminal")
    plist.add_argument("--status")
    plist.add_argument("--limit", type=int, default=50)
    plist.add_argument("--json", action="store_true", help="one JSON document: {payments: [...]}")
    plist.add_argument("--merchant", help="only this merchant's payments")
    show = psub.add_parser("show")
    show.add_argument("terminal_id")
    show.add_argument("order_id")
    show.add_argument("--json", action="store_true", help="(the default) JSON")
    show.add_argument("--merchant", help="as this merchant's operator (another's payment: no such payment)")

    ref = sub.add_parser("refund", help="operator refund of a paid payment")
    ref.add_argument("terminal_id")
    ref.add_argument("order_id")
    ref.add_argument("amount", type=int, help="minor units")
    ref.add_argument("--refund-id", help="idempotency key (default: OP-<n>)")
    ref.add_argument("--merchant", help="as this merchant's operator (another's payment: no such payment)")

    ev = sub.add_parser("events", help="the event log (list, or verify its hash chain)")
    ev.add_argument("action", nargs="?", choices=("list", "verify"), default="list")
    ev.add_argument("--terminal")
    ev.add_argument("--order")
    ev.add_argument("--limit", type=int, default=100)
    ev.add_argument("--json", action="store_true")
    ev.add_argument("--merchant", help="only the events of this merchant's terminals")

    al = sub.add_parser("alerts", help="late-payment and PIN alerts")
    al.add_argument("--all", action="store_true", help="include acknowledged ones")
    al.add_argument("--json", action="store_true")
    al.add_argument("--merchant", help="only this merchant's alerts")

    sub.add_parser("keys", help="print the merchant public key (creating the key pair if needed)")

    rep = sub.add_parser("report", help="sales, refunds and net per day, wallet and currency; settlement")
    rep.add_argument("--from", dest="date_from", required=True, metavar="YYYY-MM-DD", help="first UTC day")
    rep.add_argument("--to", dest="date_to", required=True, metavar="YYYY-MM-DD", help="last UTC day (inclusive)")
    rep.add_argument("--terminal", help="only this terminal's payments")
    rep.add_argument("--merchant", help="only this merchant's payments")
    form = rep.add_mutually_exclusive_group()
    form.add_argument("--csv", action="store_true", help="CSV (amounts in major units)")
    form.add_argument("--json", action="store_true", help="JSON (amounts in minor units)")

    from tools.gateway import merchant_cli
    merchant_cli.add_parsers(sub)

    args = parser.parse_args(argv)
    if getattr(args, "pin", None) is not None:
        print(NO_SECRETS_ON_THE_COMMAND_LINE, file=sys.stderr)
        return 2
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
               "events": cmd_events, "alerts": cmd_alerts, "keys": cmd_keys, "report": cmd_report,
               "merchant": cmd_merchant, "store": cmd_shop}[args.command]
    from tools.gateway.secretbox import SecretBoxError
    try:
        return handler(cfg, args) or 0
    except (config_mod.ConfigError, SecretBoxError) as e:
        print("config error:", e, file=sys.stderr)
        return 2
    except ConnectionError as e:  # the database is not reachable (PostgreSQL down, wrong URL)
        print("database error:", e, file=sys.stderr)
        return 2


def read_pin(prompt="Supervisor PIN (%d-%d digits): " % (credentials.PIN_MIN, credentials.PIN_MAX)):
    """The PIN from $GATEWAY_PIN, else typed twice at a terminal, else the first line of stdin."""
    if os.environ.get("GATEWAY_PIN"):
        return os.environ["GATEWAY_PIN"]
    if sys.stdin is not None and sys.stdin.isatty():
        import getpass
        first = getpass.getpass(prompt)
        if getpass.getpass("Again: ") != first:
            return None
        return first
    line = sys.stdin.readline() if sys.stdin is not None else ""
    return line.rstrip("\r\n")


def _pin_or_complain():
    pin = read_pin()
    if pin is None:
        print("the two PINs differ", file=sys.stderr)
        return None
    if not credentials.valid_pin(pin):
        print("a PIN is %d-%d digits" % (credentials.PIN_MIN, credentials.PIN_MAX), file=sys.stderr)
        return None
    return pin


def _store(cfg):
    from tools.gateway.secretbox import box_for
    from tools.gateway.store import Store
    return Store(cfg["gateway"]["db"], box=box_for(cfg))


def cmd_merchant(cfg, args):
    from tools.gateway import merchant_cli
    return merchant_cli.cmd_merchant(cfg, _store(cfg), args)


def cmd_shop(cfg, args):
    from tools.gateway import merchant_cli
    return merchant_cli.cmd_store(cfg, _store(cfg), args)


def _merchant_scope(store, args):
    """The --merchant M of an operator command: (ok, merchant id or None)."""
    merchant_id = getattr(args, "merchant", None)
    if merchant_id is None:
        return True, None
    if store.merchant(merchant_id) is None:
        print("no such merchant %s" % merchant_id, file=sys.stderr)
        return False, None
    return True, merchant_id


def cmd_serve(cfg, args):
    from tools.gateway.server import serve
    return serve(cfg, reconcile=not args.no_reconcile)


def cmd_terminal(cfg, args):
    store = _store(cfg)
    if args.action == "add":
        if not credentials.TERMINAL_ID_RE.fullmatch(args.terminal_id):
            print("a terminal id is 1-16 characters of A-Z a-z 0-9 _ -", file=sys.stderr)
            return 2
        if store.terminal(args.terminal_id) is not None:
            print("terminal %s already exists (ids are never reused)" % args.terminal_id, file=sys.stderr)
            return 1
        from tools.gateway import merchant_cli
        store_id = args.store or merchant_cli.default_store(cfg, store)
        if store_id is None:
            print("this gateway has several stores: give --store S (store list)", file=sys.stderr)
            return 2
        if store.shop(store_id) is None:
            print("no such store %s (store list)" % store_id, file=sys.stderr)
            return 1
        pin = _pin_or_complain()
        if pin is None:
            return 2
        secret = credentials.new_secret()
        store.add_terminal(args.terminal_id, secret, credentials.hash_pin(pin), store_id=store_id)
        _print_secret(args, "added", secret)
    elif args.action == "set-pin":
        if store.terminal(args.terminal_id) is None:
            print("no such terminal", file=sys.stderr)
            return 1
        pin = _pin_or_complain()
        if pin is None:
            return 2
        store.set_pin_hash(args.terminal_id, credentials.hash_pin(pin))
        print("PIN changed for", args.terminal_id)
    elif args.action == "rotate-secret":
        secret = credentials.new_secret()
        if not store.rotate_secret(args.terminal_id, secret):
            print("no such active terminal", file=sys.stderr)
            return 1
        _print_secret(args, "has a new secret (the old one is refused from now on)", secret)
    elif args.action == "revoke":
        if not store.revoke_terminal(args.terminal_id):
            print("no such active terminal", file=sys.stderr)
            return 1
        print("terminal %s revoked" % args.terminal_id)
    else:
        ok, merchant_id = _merchant_scope(store, args)
        if not ok:
            return 1
        rows = [terminal_view(row) for row in store.terminals(merchant_id)]
        if args.json:
            print(json.dumps({"terminals": rows}, indent=1))
        for t in rows if not args.json else ():
            print("%-16s %-8s last_seen=%s version=%s" % (
                t["terminal_id"], t["state"], t["last_seen"], visible((t["heartbeat"] or {}).get("version"))))
    return 0


def _print_secret(args, what, secret):
    if args.json:
        print(json.dumps({"terminal_id": args.terminal_id, "secret": secret}))
    else:
        print("terminal %s %s. Its secret (shown once; put it in the terminal's config):" % (args.terminal_id, what))
        print(secret)


def terminal_view(row):
    return {"terminal_id": row["id"], "store_id": row["store_id"], "state": "revoked" if row["revoked_at"] else "active",
            "created_at": row["created_at"], "revoked_at": row["revoked_at"], "last_seen": row["last_seen"],
            "heartbeat": json.loads(row["heartbeat"]) if row["heartbeat"] else None,
            "pin_failures": row["pin_failures"], "pin_locked_until": row["pin_locked_until"]}


def _payment_line(row):
    return "%-16s %-24s %-9s %14s late=%d payment_id=%s" % (
        row["terminal_id"], row["order_id"], row["status"], format_amount(row["amount"], row["currency"]),
        row["late"], row["payment_id"])


def payment_record(store, row, full=False):
    """A payment for an operator's script: state, amounts, late flag, refunds; with `full`, its
    events and alerts too."""
    refunds = store.refunds_of(row["id"])
    out = {
        "terminal_id": row["terminal_id"], "merchant_id": row["merchant_id"], "order_id": row["order_id"],
        "status": row["status"],
        "amount": row["amount"], "currency": row["currency"], "description": row["description"],
        "payment_request_id": row["payment_request_id"], "payment_id": row["payment_id"],
        "code_value": row["code_value"], "created_at": row["created_at"], "expires_at": row["expires_at"],
        "paid_at": row["paid_at"], "reason": row["reason"], "late": bool(row["late"]),
        "cancel_state": row["cancel_state"], "refunded_amount": store.refunded_total(row["id"]),
        **wallet_figures.record(row),
        "refunds": [{"refund_id": r["refund_id"], "amount": r["amount"], "currency": r["currency"],
                     "status": r["status"], "reason": r["reason"], "kind": r["kind"],
                     "requested_by": r["requested_by"], "created_at": r["created_at"],
                     "antom_refund_id": r["antom_refund_id"]} for r in refunds],
    }
    if full:
        out["events"] = [{"id": e["id"], "at": e["at"], "kind": e["kind"], "detail": json.loads(e["detail"])}
                         for e in store.events(row["terminal_id"], row["order_id"], limit=10000)]
        out["alerts"] = [alert_view(a) for a in store.alerts(include_acked=True) if a["payment"] == row["id"]]
    return out


def alert_view(a):
    return {"id": a["id"], "terminal_id": a["terminal_id"], "order_id": a["order_id"], "amount": a["amount"],
            "currency": a["currency"], "kind": a["kind"], "message": a["message"], "created_at": a["created_at"],
            "acked_at": a["acked_at"]}


def cmd_payments(cfg, args):
    store = _store(cfg)
    ok, merchant_id = _merchant_scope(store, args)
    if not ok:
        return 1
    if args.action == "list":
        rows = store.payments(args.terminal, args.status, args.limit, merchant_id=merchant_id)
        if args.json:
            print(json.dumps({"payments": [payment_record(store, row) for row in rows]}, indent=1))
        else:
            for row in rows:
                print(_payment_line(row))
        return 0
    row = store.payment(args.terminal_id, args.order_id)
    if row is None or (merchant_id is not None and row["merchant_id"] != merchant_id):
        print("no such payment", file=sys.stderr)
        return 1
    print(json.dumps(payment_record(store, row, full=True), indent=1))
    return 0


def operator_identity():
    """Who runs this CLI, for the event log: "operator CLI (user@host)"."""
    import getpass
    import socket
    try:
        user = getpass.getuser()
    except Exception:  # no user name in this environment
        user = "uid%d" % os.getuid()
    return "operator CLI (%s@%s)" % (user, socket.gethostname())


def cmd_refund(cfg, args):
    from tools.gateway.app import Gateway
    from tools.gateway.service import ServiceError

    async def run():
        gw = Gateway(cfg)
        try:
            row = gw.store.payment(args.terminal_id, args.order_id)
            if args.merchant is not None and gw.store.merchant(args.merchant) is None:
                raise ServiceError(404, "NOT_FOUND", "no such merchant %s" % args.merchant)
            if row is None or (args.merchant is not None and row["merchant_id"] != args.merchant):
                raise ServiceError(404, "NOT_FOUND", "no such payment")
            refund_id = args.refund_id or "OP-%d" % (len(gw.store.refunds_of(row["id"])) + 1)
            return await gw.service.refund(args.terminal_id, args.order_id, refund_id, args.amount,
                                           requested_by=operator_identity())
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
    if args.action == "verify":
        result = store.verify_events()
        if args.json:
            print(json.dumps(result))
        elif result["ok"]:
            print("event log intact: %d entries, head %s (keep this head elsewhere to detect a rewrite)"
                  % (result["events"], result["head"]))
        else:
            print("event log BROKEN at entry %d (the %d entries before it are intact)"
                  % (result["first_bad"], result["events"]), file=sys.stderr)
        return 0 if result["ok"] else 1
    ok, merchant_id = _merchant_scope(store, args)
    if not ok:
        return 1
    rows = store.events(args.terminal, args.order, args.limit, merchant_id=merchant_id)
    if args.json:
        print(json.dumps({"events": [{"id": e["id"], "at": e["at"], "kind": e["kind"], "terminal_id": e["terminal_id"],
                                      "order_id": e["order_id"], "detail": json.loads(e["detail"]),
                                      "hash": e["hash"]} for e in rows]}, indent=1))
        return 0
    for e in rows:
        print("%d %.3f %-28s %-16s %-24s %s" % (e["id"], e["at"], e["kind"], e["terminal_id"] or "-",
                                                e["order_id"] or "-", visible(e["detail"])))
    return 0


def cmd_alerts(cfg, args):
    store = _store(cfg)
    ok, merchant_id = _merchant_scope(store, args)
    if not ok:
        return 1
    rows = store.alerts(include_acked=args.all, merchant_id=merchant_id)
    if args.json:
        print(json.dumps({"alerts": [alert_view(a) for a in rows]}, indent=1))
        return 0
    for a in rows:
        print("%d %-16s %-24s %s %s %s%s" % (a["id"], a["terminal_id"], a["order_id"] or "-",
                                              format_amount(a["amount"], a["currency"]) if a["currency"] else "-",
                                              a["kind"], visible(a["message"]), " (acked)" if a["acked_at"] else ""))
    return 0


def cmd_report(cfg, args):
    from tools.gateway import report
    try:
        store = _store(cfg)
        ok, merchant_id = _merchant_scope(store, args)
        if not ok:
            return 1
        data = report.build(store, args.date_from, args.date_to, args.terminal, merchant_id=merchant_id)
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
