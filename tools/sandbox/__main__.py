"""python -m tools.sandbox {serve,public-key,register,pay,payments} (docs/sandbox.md)."""
import argparse
import json
import sys

import httpx


def cmd_serve(args) -> int:
    from tools.sandbox import app, faults, server
    from tools.sandbox.ledger import Config

    sock = server.bind(args.host, args.port)
    port = sock.getsockname()[1]
    scheme = "https" if args.tls_cert else "http"
    host = "[%s]" % args.host if ":" in args.host else args.host
    base = "%s://%s:%d" % (scheme, host, port)
    config = Config(public_url=args.public_url or base, code_lifetime=args.code_lifetime,
                    cancel_window=args.cancel_window, time_scale=args.time_scale,
                    run_faults=[faults.parse_cli(spec) for spec in args.fault])
    public, admin = app.build(args.data, config)
    admin_sock = server.bind("127.0.0.1", args.admin_port)   # loopback only, whatever --host says
    admin_address = admin_sock.getsockname()
    # first: who sees "listening" (tools/sandbox/testing.py, make demo) finds the admin line too
    print("sandbox admin on %s://127.0.0.1:%d (loopback only: /_sandbox/...)" % (scheme, admin_address[1]),
          flush=True)
    print("sandbox listening on %s" % base, flush=True)
    server.run(app.by_socket(public, admin, admin_address), sock, args.tls_cert, args.tls_key, args.log_level,
               more_sockets=[admin_sock])
    return 0


def cmd_public_key(args) -> int:
    from tools.sandbox import keys

    if args.client_id:
        from tools.sandbox.store import Store

        store = Store(args.data)
        client = store.client(args.client_id)
        store.close()
        if client is None:
            print("error: %s is not registered" % args.client_id, file=sys.stderr)
            return 1
        if client["antom_private_pem"]:
            sys.stdout.write(keys.public_of(client["antom_private_pem"]).decode("ascii"))
            return 0
    sys.stdout.write(keys.public_pem(args.data).decode("ascii"))
    return 0


def cmd_register(args) -> int:
    from tools.antom import signature
    from tools.sandbox.store import Store

    pem = sys.stdin.read() if args.public_key == "-" else open(args.public_key).read()
    key = signature.load_public_key(pem)  # refuse garbage now, not at the first request
    store = Store(args.data)
    earlier = store.client(args.client_id)
    own = None
    if args.own_antom_key:  # keep an earlier own key: the gateway already trusts its public half
        own = (earlier or {}).get("antom_private_pem") or signature.private_pem(
            signature.generate_private_key()).decode("ascii")
    store.register_merchant(args.client_id, signature.public_pem(key).decode("ascii"), isv=args.isv,
                            antom_private_pem=own)
    store.close()
    print("registered %s%s" % (args.client_id, " (ISV)" if args.isv else ""))
    return 0


def cmd_agent_token(args) -> int:
    """Issue an agent token: a merchant authorises ISV client id C to act for it."""
    import secrets

    from tools.sandbox.store import Store

    store = Store(args.data)
    client = store.client(args.client_id)
    if client is None or not client["isv"]:
        store.close()
        print("error: %s is not a registered ISV client id (register --isv)" % args.client_id, file=sys.stderr)
        return 1
    token = "AT" + secrets.token_hex(16)
    store.add_agent(args.client_id, token, args.name)
    store.close()
    print(token)
    return 0


def cmd_pay(args) -> int:
    action = "decline" if args.decline else "pay"
    url = args.url.rstrip("/")
    try:
        if args.wallet and not args.decline:  # as the page: see the quote first, then pay
            offer = httpx.get(url + "/quote", params={"wallet": args.wallet}, timeout=10, trust_env=False)
            if offer.status_code == 200:
                print(json.dumps({"offer": offer.json()}))
        body = {"wallet": args.wallet} if args.wallet and not args.decline else None
        response = httpx.post(url + "/" + action, json=body, timeout=10, trust_env=False)
        answer = response.json()
    except (httpx.HTTPError, httpx.InvalidURL, ValueError) as problem:  # InvalidURL is no HTTPError
        print("error: %s" % problem, file=sys.stderr)
        return 2
    print(json.dumps(answer))
    return 0 if response.status_code == 200 else 1


def cmd_wallets(args) -> int:
    from tools.sandbox import rates, wallets

    print(json.dumps({"wallets": [{"pspName": w.psp_name, "displayName": w.display_name,
                                   "currency": w.currency, "region": w.region,
                                   "customerId": w.customer_id} for w in wallets.WALLETS],
                      "ratesPerUSD": rates.RATES}, indent=2))
    return 0


def cmd_payments(args) -> int:
    if args.url:
        response = httpx.get(args.url.rstrip("/") + "/_sandbox/payments", timeout=10, trust_env=False)
        print(json.dumps(response.json(), indent=2))
        return 0
    from tools.sandbox.admin import payment_view
    from tools.sandbox.store import Store

    store = Store(args.data)
    print(json.dumps({"payments": [payment_view(p) for p in store.payments()]}, indent=2))
    store.close()
    return 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="python -m tools.sandbox",
                                  description="Local Antom (Alipay Order Code) sandbox")
    sub = top.add_subparsers(dest="command", required=True)
    sub.add_parser("wallets", help="list the wallets and the rate table (JSON)").set_defaults(func=cmd_wallets)

    serve = sub.add_parser("serve", help="run the sandbox server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=0, help="0 picks a free port (printed)")
    serve.add_argument("--admin-port", type=int, default=0,
                       help="port of the /_sandbox/ admin API, always on 127.0.0.1 (0: a free one, printed)")
    serve.add_argument("--data", required=True, help="directory for keys and sandbox.sqlite3")
    serve.add_argument("--public-url", help="base URL of order codes (default: the listen address)")
    serve.add_argument("--time-scale", type=float, default=1.0, help="multiplies notification retry delays")
    serve.add_argument("--code-lifetime", type=float, default=900.0, help="default order-code lifetime, s")
    serve.add_argument("--cancel-window", type=float, default=86400.0, help="seconds after creation")
    serve.add_argument("--fault", action="append", default=[], metavar="NAME[=ARG][@AMOUNT]",
                       help="fault for every new payment, or only those of AMOUNT minor units (repeatable)")
    serve.add_argument("--tls-cert")
    serve.add_argument("--tls-key")
    serve.add_argument("--log-level", default="warning")
    serve.set_defaults(func=cmd_serve)

    public_key = sub.add_parser("public-key", help="print the sandbox public key (PEM)")
    public_key.add_argument("--data", required=True)
    public_key.add_argument("--client-id", help="the key this client id's answers are signed with "
                                                "(its own, else the sandbox's)")
    public_key.set_defaults(func=cmd_public_key)

    register = sub.add_parser("register", help="register a merchant client id and public key")
    register.add_argument("--data", required=True)
    register.add_argument("--client-id", required=True)
    register.add_argument("--public-key", required=True, help="PEM file, or - for stdin")
    register.add_argument("--isv", action="store_true",
                          help="an ISV's client id: every call must name a merchant by agent-token")
    register.add_argument("--own-antom-key", action="store_true",
                          help="sign this client id's answers with a key of its own "
                               "(public-key --client-id prints it)")
    register.set_defaults(func=cmd_register)

    agent = sub.add_parser("agent-token", help="issue an agent token: a merchant of an ISV client id")
    agent.add_argument("--data", required=True)
    agent.add_argument("--client-id", required=True, help="the ISV's client id")
    agent.add_argument("--name", required=True, help="the merchant's name")
    agent.set_defaults(func=cmd_agent_token)

    pay = sub.add_parser("pay", help="play the customer: pay (or decline) an order code URL")
    pay.add_argument("url")
    pay.add_argument("--decline", action="store_true")
    pay.add_argument("--wallet", help="pay with this wallet (pspName, e.g. GCASH; docs/sandbox.md); "
                                      "default Alipay")
    pay.set_defaults(func=cmd_pay)

    payments = sub.add_parser("payments", help="list payments as JSON")
    where = payments.add_mutually_exclusive_group(required=True)
    where.add_argument("--url", help="a running sandbox's admin URL (printed: 'sandbox admin on ...')")
    where.add_argument("--data", help="a data dir (reads SQLite directly)")
    payments.set_defaults(func=cmd_payments)
    return top


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    if getattr(args, "fault", None):
        from tools.sandbox import faults, rules
        try:
            for spec in args.fault:
                faults.parse_cli(spec)
        except rules.Invalid as problem:
            parser().error(problem.message)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
