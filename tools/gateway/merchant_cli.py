"""Operator commands for merchants and stores (`python -m tools.gateway merchant|store ...`).

    merchant add ID --name N --mcc MCC --client-id C [--private-key-file F|-] [--antom-public-key-file F]
                 [--base-url U] [--path-prefix P] [--agent-token-file F|-] [--merchant-account-id X]
                 [--settlement-currency CUR] [--max-amount N] [--currencies A,B]
                 [--store-id S --store-name NAME [--store-mcc MCC]] [--json]
    merchant list [--json] | show ID [--json] | set ID [...] | register ID [--store S] [--json]
    store add ID --merchant M --name N [--mcc MCC] | store list [--merchant M] [--json]

Secrets (the private key, the agent token) are read from a file or stdin (`-`), never from the
command line, and sealed in the database with the key-encryption key. A client id already on record
(an ISV's, or a system integrator's account serving several merchants) is reused with its keys:
give only the new merchant's agent token or merchantAccountId.
"""
import asyncio
import json
import secrets
import sys

from tools.antom import signature
from tools.gateway import environment, merchants
from tools.gateway.currencies import EXPONENTS


def add_parsers(sub):
    m = sub.add_parser("merchant", help="merchants: their Antom access, names, MCC, settlement and limits")
    msub = m.add_subparsers(dest="action", required=True)
    add = msub.add_parser("add", help="a merchant with its Antom access (and its first store)")
    add.add_argument("merchant_id")
    _merchant_fields(add, required=True)
    add.add_argument("--client-id", required=True, help="Antom client id (its own, or an ISV's)")
    add.add_argument("--private-key-file", help="PEM of the client id's private key, or - for stdin "
                                                "(only for a client id not yet on record)")
    add.add_argument("--antom-public-key-file", help="Antom's public key for this client id (PEM file)")
    add.add_argument("--base-url", help="Antom host (default: [antom] base_url)")
    add.add_argument("--path-prefix", help="default: [antom] path_prefix")
    add.add_argument("--sandbox", action="store_true",
                     help="this client id is a sandbox's (the local one, or Antom's SANDBOX_ ids); refused without it")
    add.add_argument("--store-id", help="also add this merchant's first store")
    add.add_argument("--store-name")
    add.add_argument("--store-mcc")
    add.add_argument("--json", action="store_true")
    lst = msub.add_parser("list")
    lst.add_argument("--json", action="store_true")
    show = msub.add_parser("show")
    show.add_argument("merchant_id")
    show.add_argument("--json", action="store_true")
    st = msub.add_parser("set", help="change names, MCC, settlement currency, limits, agent token")
    st.add_argument("merchant_id")
    _merchant_fields(st, required=False)
    st.add_argument("--json", action="store_true")
    reg = msub.add_parser("register", help="register the merchant (and a store) with Antom, then ask its status")
    reg.add_argument("merchant_id")
    reg.add_argument("--store", help="the store to register (default: the merchant's first)")
    reg.add_argument("--json", action="store_true")

    s = sub.add_parser("store", help="stores (shops) of a merchant")
    ssub = s.add_subparsers(dest="action", required=True)
    sadd = ssub.add_parser("add")
    sadd.add_argument("store_id")
    sadd.add_argument("--merchant", required=True)
    sadd.add_argument("--name", required=True)
    sadd.add_argument("--mcc", help="default: the merchant's MCC")
    sadd.add_argument("--json", action="store_true")
    slist = ssub.add_parser("list")
    slist.add_argument("--merchant")
    slist.add_argument("--json", action="store_true")


def _merchant_fields(p, required):
    p.add_argument("--name", required=required)
    p.add_argument("--mcc", required=required, help="merchant category code, 4 digits")
    p.add_argument("--settlement-currency", help="ISO 4217 code asked for in every pay ('' = the contract's)")
    p.add_argument("--max-amount", type=int, help="largest payment, minor units (default: the gateway's)")
    p.add_argument("--currencies", help="accepted currencies, comma-separated (default: the gateway's)")
    p.add_argument("--agent-token-file", help="ISV mode: the merchant's agent token, from this file or - (stdin)")
    p.add_argument("--merchant-account-id", help="where one client id serves several merchant accounts")


def _fail(message, code=1):
    print(message, file=sys.stderr)
    return code


def _read_secret(path, what):
    if path == "-":
        text = sys.stdin.read()
    else:
        try:
            with open(path) as f:
                text = f.read()
        except OSError as e:
            raise merchants.MerchantError("cannot read %s from %s: %s" % (what, path, e)) from e
    text = text.strip()
    if not text:
        raise merchants.MerchantError("%s is empty" % what)
    return text


def _fields(cfg, args, adding):
    """The merchant fields given on the command line, checked."""
    out = {}
    if args.name is not None:
        if not args.name.strip() or len(args.name) > 256:
            raise merchants.MerchantError("--name: 1-256 characters")
        out["name"] = args.name
    if args.mcc is not None:
        if not (args.mcc.isdigit() and len(args.mcc) == 4):
            raise merchants.MerchantError("--mcc: a merchant category code is 4 digits")
        out["mcc"] = args.mcc
    if args.settlement_currency is not None:
        if args.settlement_currency and args.settlement_currency not in EXPONENTS:
            raise merchants.MerchantError("--settlement-currency: %r is not an ISO 4217 code" % args.settlement_currency)
        out["settlement_currency"] = args.settlement_currency
    if args.max_amount is not None:
        if not 1 <= args.max_amount <= cfg["gateway"]["max_amount"]:
            raise merchants.MerchantError("--max-amount: 1 to the gateway's max_amount (%d)" % cfg["gateway"]["max_amount"])
        out["max_amount"] = args.max_amount
    if args.currencies is not None:
        codes = [c.strip() for c in args.currencies.split(",") if c.strip()]
        wrong = [c for c in codes if c not in cfg["gateway"]["currencies"]]
        if wrong or not codes:
            raise merchants.MerchantError("--currencies: a comma-separated subset of the gateway's (%s); not %s"
                                          % (",".join(cfg["gateway"]["currencies"]), ",".join(wrong) or "empty"))
        out["currencies"] = codes
    if args.merchant_account_id is not None:
        if len(args.merchant_account_id) > 64:
            raise merchants.MerchantError("--merchant-account-id: at most 64 characters")
        out["merchant_account_id"] = args.merchant_account_id or None
    if args.agent_token_file is not None:
        token = _read_secret(args.agent_token_file, "the agent token")
        if len(token) > 256 or any(ch <= " " or ch == "\x7f" for ch in token):
            raise merchants.MerchantError("the agent token: at most 256 visible characters")
        out["agent_token"] = token
    return out


def _token_taken(store, client_id, token, merchant_id):
    """Another merchant of this client id with the same agent token would be the same merchant at
    Antom: each would see the other's payments."""
    return any(row["id"] != merchant_id and row["client_id"] == client_id and row["agent_token"]
               and store.merchant_agent_token(row) == token for row in store.merchants())


def _print(args, data, text):
    print(json.dumps(data, indent=1) if args.json else text)


def cmd_merchant(cfg, store, args):
    try:
        return _merchant(cfg, store, args)
    except merchants.MerchantError as e:
        return _fail(str(e), 2)


def _merchant(cfg, store, args):
    if args.action == "list":
        rows = [merchants.merchant_view(store, r) for r in store.merchants()]
        if args.json:
            print(json.dumps({"mode": merchants.mode_of(store), "merchants": rows}, indent=1))
        for r in rows if not args.json else ():
            print("%-16s %-10s %-24s client=%s%s stores=%s" % (r["id"], r["mode"], r["name"], r["client_id"],
                                                                " agent-token" if r["agent_token"] else "",
                                                                ",".join(s["id"] for s in r["stores"])))
        return 0
    merchant_id = args.merchant_id
    if args.action == "add":
        return _add(cfg, store, args)
    row = store.merchant(merchant_id)
    if row is None:
        return _fail("no such merchant %s" % merchant_id)
    if args.action == "show":
        view = merchants.merchant_view(store, row)
        _print(args, view, "\n".join("%s: %s" % (k, v) for k, v in view.items()))
        return 0
    if args.action == "set":
        if row["from_config"]:
            return _fail("merchant %s comes from the configuration file ([merchant], [antom]): change it there" % merchant_id)
        fields = _fields(cfg, args, adding=False)
        if not fields:
            return _fail("nothing to change", 2)
        if "agent_token" in fields and not row["agent_token"]:
            return _fail("merchant %s uses its own client id: an agent token belongs to a merchant of an ISV" % merchant_id)
        if "agent_token" in fields and _token_taken(store, row["client_id"], fields["agent_token"], merchant_id):
            return _fail("another merchant of client id %s has this agent token" % row["client_id"])
        store.update_merchant(merchant_id, **fields)
        view = merchants.merchant_view(store, store.merchant(merchant_id))
        _print(args, view, "merchant %s changed: %s" % (merchant_id, ", ".join(sorted(fields))))
        return 0
    return _register(cfg, store, args, row)


def _add(cfg, store, args):
    merchant_id = merchants.check_id(args.merchant_id, "merchant id")
    if store.merchant(merchant_id) is not None:
        return _fail("merchant %s already exists" % merchant_id)
    fields = _fields(cfg, args, adding=True)
    if args.store_id:
        merchants.check_id(args.store_id, "store id")
        if store.shop(args.store_id) is not None:
            return _fail("store %s already exists" % args.store_id)
        if not args.store_name:
            return _fail("--store-name is required with --store-id", 2)
    if args.private_key_file == "-" and args.agent_token_file == "-":
        return _fail("only one secret can come from stdin", 2)
    client_id = args.client_id
    if not client_id or len(client_id) > 64 or any(ch <= " " for ch in client_id):
        return _fail("--client-id: 1-64 visible characters", 2)
    account = store.antom_account(client_id)
    if fields.get("agent_token") and _token_taken(store, client_id, fields["agent_token"], merchant_id):
        return _fail("another merchant of client id %s has this agent token" % client_id)
    with store.transaction():
        if account is None:
            if not args.private_key_file or not args.antom_public_key_file:
                return _fail("client id %s is new: give --private-key-file and --antom-public-key-file" % client_id, 2)
            private_pem = _read_secret(args.private_key_file, "the private key")
            try:
                private_pem = signature.private_pem(signature.load_private_key(private_pem.encode("ascii"))).decode()
                with open(args.antom_public_key_file, "rb") as f:
                    public_pem = signature.public_pem(signature.load_public_key(f.read())).decode()
            except (ValueError, OSError, UnicodeEncodeError) as e:
                raise merchants.MerchantError("the keys do not load: %s" % e) from e
            prefix = args.path_prefix or cfg["antom"]["path_prefix"]
            if not prefix.startswith("/") or prefix.endswith("/"):
                return _fail("--path-prefix must start with '/' and not end with one", 2)
            base_url = args.base_url or cfg["antom"]["base_url"]
            refused = environment.refusal({"base_url": base_url, "path_prefix": prefix, "client_id": client_id,
                                           "sandbox": args.sandbox}, where="merchant")
            if refused:
                return _fail(refused.replace("set [merchant] sandbox = true", "add --sandbox"), 2)
            store.add_antom_account(client_id, base_url, prefix, private_key_pem=private_pem,
                                    antom_public_key_pem=public_pem, sandbox=args.sandbox)
        elif args.private_key_file or args.antom_public_key_file or args.base_url or args.path_prefix:
            return _fail("client id %s is on record already: its keys and host stay as they are (add the merchant "
                         "with --client-id alone, plus --agent-token-file for an ISV's merchant)" % client_id, 2)
        store.add_merchant(merchant_id, client_id, fields["name"], fields["mcc"],
                           agent_token=fields.get("agent_token"), merchant_account_id=fields.get("merchant_account_id"),
                           settlement_currency=fields.get("settlement_currency", ""),
                           max_amount=fields.get("max_amount"), currencies=fields.get("currencies"))
        if args.store_id:
            store.add_shop(args.store_id, merchant_id, args.store_name, args.store_mcc or fields["mcc"])
    view = merchants.merchant_view(store, store.merchant(merchant_id))
    _print(args, view, "merchant %s added (%s, client id %s%s)" % (
        merchant_id, "ISV mode" if view["agent_token"] else "own credentials", client_id,
        ", store %s" % args.store_id if args.store_id else ""))
    return 0


def _register(cfg, store, args, row):
    shops = store.shops(row["id"])
    shop = store.shop(args.store) if args.store else (shops[0] if shops else None)
    if shop is None or shop["merchant_id"] != row["id"]:
        return _fail("merchant %s has no such store: give --store (store add first)" % row["id"])
    from tools.gateway import antom
    from tools.gateway.app import load_keys

    request_id = row["registration_request_id"] or "REG-%s-%s" % (row["id"], secrets.token_hex(6))
    clients = merchants.MerchantClients(cfg, store, lambda: load_keys(cfg), clock=__import__("time").time)

    async def run():
        client = clients.for_merchant(row["id"])
        try:
            sent = await antom.register_merchant(client, request_id,
                                                 {"id": row["id"], "name": row["name"], "mcc": row["mcc"]},
                                                 {"id": shop["id"], "name": shop["name"], "mcc": shop["mcc"]})
            status = await antom.registration_status(client, request_id) if sent.signed and sent.status == "S" else None
            return sent, status
        finally:
            await clients.close()

    sent, status = asyncio.run(run())
    if not sent.signed or sent.status != "S":
        store.update_merchant(row["id"], registration_request_id=request_id,
                              registration_status="REFUSED %s" % sent.code if sent.signed else "UNKNOWN")
        return _fail("registration of %s: %s %s (%s)" % (row["id"], sent.status, sent.code, sent.message[:200]))
    state = "ACCEPTED"
    if status is not None and status.signed and status.status == "S":
        state = (status.body.get("registrationResult") or {}).get("registrationStatus") or state
    store.update_merchant(row["id"], registration_request_id=request_id, registration_status=state)
    _print(args, {"merchant_id": row["id"], "store_id": shop["id"], "registration_request_id": request_id,
                  "status": state},
           "merchant %s registered with Antom (request %s): %s" % (row["id"], request_id, state))
    return 0


def cmd_store(cfg, store, args):
    if args.action == "list":
        rows = [{"id": s["id"], "merchant_id": s["merchant_id"], "name": s["name"], "mcc": s["mcc"],
                 "created_at": s["created_at"]} for s in store.shops(args.merchant)]
        if args.json:
            print(json.dumps({"stores": rows}, indent=1))
        for s in rows if not args.json else ():
            print("%-16s merchant=%-16s %s (%s)" % (s["id"], s["merchant_id"], s["name"], s["mcc"]))
        return 0
    try:
        merchants.check_id(args.store_id, "store id")
    except merchants.MerchantError as e:
        return _fail(str(e), 2)
    merchant = store.merchant(args.merchant)
    if merchant is None:
        return _fail("no such merchant %s" % args.merchant)
    if store.shop(args.store_id) is not None:
        return _fail("store %s already exists" % args.store_id)
    mcc = args.mcc or merchant["mcc"]
    if not (mcc.isdigit() and len(mcc) == 4) or not args.name.strip() or len(args.name) > 256:
        return _fail("a store needs a name (1-256 characters) and a 4-digit MCC", 2)
    store.add_shop(args.store_id, merchant["id"], args.name, mcc)
    _print(args, {"id": args.store_id, "merchant_id": merchant["id"], "name": args.name, "mcc": mcc},
           "store %s added to merchant %s" % (args.store_id, merchant["id"]))
    return 0


def default_store(cfg, store):
    """Where `terminal add` without --store puts a terminal: the configuration merchant's store
    (merchant mode: created on first use), else the only store there is; None when ambiguous."""
    merchants.ensure_config_merchant(store, cfg)
    config = store.config_merchant()
    if config is not None and store.shop(cfg["merchant"]["store_id"]) is not None:
        return cfg["merchant"]["store_id"]
    shops = store.shops()
    return shops[0]["id"] if len(shops) == 1 else None
