"""Merchants at run time: the configuration's merchant (merchant mode), the Antom client of each
merchant (system-integrator and ISV modes), and where each merchant's notifications arrive.

Modes (Antom's integration modes, docs/gateway.md):
- merchant mode: one merchant, its own client id and keys (the [antom] and [merchant] sections of
  the configuration become that merchant and its store at start-up, with no extra step);
- system-integrator mode: several merchants, each with its own client id and keys;
- ISV mode: several merchants on one ISV client id and key, each named by its agent token (the
  `agent-token` header of every call).

Notify URLs: every merchant has `<notify base>/<merchant id>` (its payments name it as
paymentNotifyUrl, and its notifications are verified with its own client id and Antom key); the
bare `<notify base>` stays the configuration merchant's (payments made before the upgrade).
"""
import logging
import re

from tools.antom import signature
from tools.gateway import environment
from tools.gateway.antom import AntomClient

log = logging.getLogger("gateway")

ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,32}\Z")  # merchant and store ids: URL-safe, no dots


class MerchantError(ValueError):
    """A clear operator-facing refusal (the CLI prints it and exits 1)."""


def check_id(value, what):
    if not isinstance(value, str) or not ID_PATTERN.match(value):
        raise MerchantError("%s must be 1-32 letters, digits, '-' or '_': %r" % (what, value))
    return value


def mode_of(store):
    """merchant, system-integrator or isv (as the merchants on record are set up)."""
    rows = store.merchants()
    if any(row["agent_token"] for row in rows):
        return "isv"
    return "system-integrator" if len(rows) > 1 else "merchant"


def ensure_config_merchant(store, cfg):
    """Merchant mode with no extra step: the configuration's [antom] account and [merchant]
    merchant and store are on record (created on first start or upgrade, kept in step with the
    file afterwards), and terminals or payments from before merchants existed belong to them.
    Nothing is created in a database whose merchants were all added by the CLI."""
    row = store.config_merchant()
    if row is None and store.merchant_count() > 0 and store.unowned_count() == 0:
        return None
    a, m = cfg["antom"], cfg["merchant"]
    with store.transaction():
        # read again under the write lock: instances started together on one database create the
        # configuration's merchant once (the others find it here), not one each (a duplicate key)
        row = store.config_merchant()
        account = store.antom_account(a["client_id"])
        if account is None:
            store.add_antom_account(a["client_id"], a["base_url"], a["path_prefix"], from_config=True)
        elif account["from_config"]:
            store.update_antom_account(a["client_id"], base_url=a["base_url"], path_prefix=a["path_prefix"])
        if row is None:
            check_id(m["id"], "merchant.id")
            store.add_merchant(m["id"], a["client_id"], m["name"], m["mcc"],
                               settlement_currency=m["settlement_currency"], from_config=True)
            row = store.merchant(m["id"])
        else:
            store.update_merchant(row["id"], name=m["name"], mcc=m["mcc"], settlement_currency=m["settlement_currency"])
            if row["client_id"] != a["client_id"]:
                store.update_merchant(row["id"], client_id=a["client_id"])
        shop = store.shop(m["store_id"])
        if shop is None:
            check_id(m["store_id"], "merchant.store_id")
            store.add_shop(m["store_id"], row["id"], m["store_name"], m["store_mcc"])
        elif shop["merchant_id"] == row["id"]:
            store.update_shop(m["store_id"], m["store_name"], m["store_mcc"])
        store.attach_unowned(m["store_id"], row["id"])
    return store.merchant(row["id"])


def merchant_view(store, row, with_stores=True):
    """What `merchant list/show --json` prints (never a key or a token)."""
    import json
    account = store.antom_account(row["client_id"])
    view = {
        "id": row["id"], "name": row["name"], "mcc": row["mcc"],
        "settlement_currency": row["settlement_currency"] or None,
        "max_amount": row["max_amount"],
        "currencies": json.loads(row["currencies"]) if row["currencies"] else None,
        "client_id": row["client_id"],
        "mode": "isv" if row["agent_token"] else "own",
        "agent_token": "set" if row["agent_token"] else None,
        "merchant_account_id": row["merchant_account_id"],
        "base_url": account["base_url"] if account else None,
        "path_prefix": account["path_prefix"] if account else None,
        "from_config": bool(row["from_config"]),
        "registration": ({"request_id": row["registration_request_id"], "status": row["registration_status"]}
                         if row["registration_request_id"] else None),
        "created_at": row["created_at"],
    }
    if with_stores:
        view["stores"] = [{"id": s["id"], "name": s["name"], "mcc": s["mcc"]} for s in store.shops(row["id"])]
        view["terminals"] = store.terminal_ids_of(row["id"])
    return view


def notify_url_for(base_url, merchant_row):
    """The paymentNotifyUrl of a merchant's payments (see the module docstring)."""
    if merchant_row is None or merchant_row["from_config"]:
        return base_url
    return "%s/%s" % (base_url.rstrip("/"), merchant_row["id"])


def account_access(account):
    """An Antom account on record as the access mapping of tools/gateway/environment.py."""
    return {"base_url": account["base_url"], "path_prefix": account["path_prefix"],
            "client_id": account["client_id"], "sandbox": bool(account["sandbox"])}


class MerchantClients:
    """One AntomClient per merchant, built on first use from the merchant's record and its
    account (keys from the configuration's files for the configuration's account, else opened from
    the database), rebuilt when the record changes (a `merchant set` in another process)."""

    def __init__(self, cfg, store, config_keys, clock, transport=None):
        self.cfg = cfg
        self.store = store
        self.config_keys = config_keys   # () -> (private key, Antom public key) from the files
        self.clock = clock
        self.transport = transport
        self._clients = {}   # merchant id -> (fingerprint, AntomClient)
        self._retired = []

    def _fingerprint(self, merchant, account):
        return (merchant["client_id"], merchant["agent_token"], account["base_url"], account["path_prefix"],
                account["private_key"], account["antom_public_key"], account["from_config"])

    def for_merchant(self, merchant_id):
        """The client of merchant `merchant_id`, or None when there is no such merchant."""
        merchant = self.store.merchant(merchant_id) if merchant_id else None
        if merchant is None:
            return None
        account = self.store.antom_account(merchant["client_id"])
        fingerprint = self._fingerprint(merchant, account)
        held = self._clients.get(merchant_id)
        if held is not None and held[0] == fingerprint:
            return held[1]
        if held is not None:
            self._retired.append(held[1])
        client = self._build(merchant, account)
        self._clients[merchant_id] = (fingerprint, client)
        return client

    def _build(self, merchant, account):
        a = self.cfg["antom"]
        if account["from_config"]:
            private, public = self.config_keys()
        else:
            # a sandbox the account did not ask for is refused (as for the configuration's, 12.13)
            environment.check(account_access(account), where="merchant %s" % merchant["id"])
            private = signature.load_private_key(self.store.account_private_key(account).encode("ascii"))
            public = signature.load_public_key(account["antom_public_key"].encode("ascii"))
        return AntomClient(account["base_url"], account["path_prefix"], account["client_id"], private, public,
                           timeout=a["timeout"], key_version=a["key_version"], clock=self.clock,
                           transport=self.transport, agent_token=self.store.merchant_agent_token(merchant))

    def held(self):
        return [entry[1] for entry in self._clients.values()]

    async def close(self):
        for client in self.held() + self._retired:
            await client.close()
        self._clients.clear()
        self._retired = []


class SingleClient:
    """One AntomClient for every merchant (tests that hand the service a bare client)."""

    def __init__(self, client):
        self.client = client

    def for_merchant(self, merchant_id):
        return self.client

    def held(self):
        return [self.client]

    async def close(self):
        await self.client.close()
