"""Every word the terminal can put on its screen: one catalogue, per language.

    texts = Texts(cashier="en", customer=("en", "zh-Hans"))
    texts.t("idle.prompt")              -> "Enter amount"                (the cashier's language)
    texts.t("hint.stop", "CANCEL")      -> "CANCEL: stop"
    texts.customer("paid.note")         -> ["Payment received", "付款成功"]  (one per customer language)
    texts.why("ORDER_IS_CLOSED")        -> ("Declined in the wallet", True)
    texts.why("SOMETHING_NEW")          -> ("The payment did not go through", False): log the code

The words live in one module per language (texts_en.py, texts_zh_hans.py, texts_zh_hant.py, a
dict `T` each); only the configured languages are imported. A language without a key falls back
to English (zh-Hant carries only the customer's lines). Codes never reach the screen: every
result and error code the gateway or Antom can send maps to a sentence a cashier can act on
(WHY, REFUND_WHY), anything else to a generic one. The glyph-and-fit test (tests/display) and the
font subsetter (tools/fonts) read `every_text()`.
"""
CASHIER_LANGUAGES = ("en", "zh-Hans")
CUSTOMER_LANGUAGES = ("en", "zh-Hans", "zh-Hant")
DEFAULT_CASHIER = "en"
DEFAULT_CUSTOMER = ("en", "zh-Hans")
MAX_CUSTOMER = 2  # lines per customer sentence that fit the smallest panel

# The customer-facing lines: shown once per configured customer language.
CUSTOMER_KEYS = ("qr.wallets", "paid.note", "no_payment", "expired.note", "cancelled.note")

# Why a sale failed: the gateway's stable codes (tools/gateway) and Antom's result codes
# (ALIPAY.md, as the gateway passes them on as the payment's reason) -> a sentence's key.
WHY = {
    "ORDER_IS_CLOSED": "why.declined", "USER_REJECT": "why.declined", "declined": "why.declined",
    "USER_BALANCE_NOT_ENOUGH": "why.balance",
    "USER_AMOUNT_EXCEED_LIMIT": "why.limit", "AMOUNT_EXCEED_LIMIT": "why.limit",
    "PAYMENT_AMOUNT_EXCEED_LIMIT": "why.limit", "PAYMENT_COUNT_EXCEED_LIMIT": "why.limit",
    "RISK_REJECT": "why.risk",
    "USER_NOT_EXIST": "why.account", "USER_STATUS_ABNORMAL": "why.account",
    "USER_ACCOUNT_ABNORMAL": "why.account", "USER_KYC_NOT_QUALIFIED": "why.account",
    "ORDER_IS_CANCELED": "why.cancelled", "CANCELLED_AT_ANTOM": "why.cancelled",
    "ORDER_CANCELLED": "why.cancelled_first",
    "INVALID_AMOUNT": "why.amount",
    "UNKNOWN_CURRENCY": "why.currency", "CURRENCY_NOT_SUPPORT": "why.currency",
    "ORDER_MISMATCH": "why.clash", "REPEAT_REQ_INCONSISTENT": "why.clash",
    "ACCESS_DENIED": "why.shop", "CLIENT_INVALID": "why.shop", "SIGNATURE_INVALID": "why.shop",
    "KEY_NOT_FOUND": "why.shop", "MERCHANT_NOT_REGISTERED": "why.shop", "INVALID_CONTRACT": "why.shop",
    "INVALID_MERCHANT_STATUS": "why.shop", "INVALID_CLIENT_STATUS": "why.shop", "NO_PAY_OPTIONS": "why.shop",
    "NO_INTERFACE_DEF": "why.shop", "INVALID_API": "why.shop", "SETTLE_CONTRACT_NOT_MATCH": "why.shop",
    "PARAM_ILLEGAL": "why.shop", "INVALID_FIELD": "why.shop", "INVALID_JSON": "why.shop",
    "UPSTREAM_ERROR": "why.upstream", "PROCESS_FAIL": "why.upstream", "SYSTEM_ERROR": "why.upstream",
    "UNKNOWN_EXCEPTION": "why.upstream", "ORDER_STATUS_INVALID": "why.upstream",
    "UPSTREAM_UNAVAILABLE": "why.upstream", "INTERNAL_ERROR": "why.upstream",
    "REQUEST_TRAFFIC_EXCEED_LIMIT": "why.busy", "RATE_LIMITED": "why.busy", "TOO_MANY_REQUESTS": "why.busy",
    "never created": "why.never", "ORDER_NOT_EXIST": "why.never", "NOT_FOUND": "why.never",
    "UNKNOWN_TERMINAL": "why.terminal", "TERMINAL_REVOKED": "why.terminal", "BAD_SIGNATURE": "why.terminal",
    "MISSING_AUTH": "why.terminal", "STALE_TIMESTAMP": "why.terminal", "NONCE_REUSED": "why.terminal",
    "METHOD_NOT_ALLOWED": "why.terminal", "BODY_TOO_LARGE": "why.terminal", "INVALID_PATH": "why.terminal",
    "UNAUTHORIZED": "why.terminal",
}
# Why a refund did not happen (firmware/flow's refund outcome: the gateway's code, or FAILED,
# PENDING, UNKNOWN, REFUSED of its own).
REFUND_WHY = {
    "PIN_LOCKED": "refund.locked", "NOT_REFUNDABLE": "refund.not_refundable",
    "REFUND_EXCEEDS_PAYMENT": "refund.already", "REFUND_AMOUNT_EXCEED": "refund.already",
    "REFUND_MISMATCH": "refund.other", "REPEAT_REQ_INCONSISTENT": "refund.other",
    "FAILED": "refund.refused", "REFUSED": "refund.refused", "PROCESS_FAIL": "refund.refused",
    "REFUND_WINDOW_EXCEED": "refund.too_late", "CANCEL_WINDOW_EXCEED": "refund.too_late",
    "PENDING": "refund.pending", "UNKNOWN": "refund.no_answer", "NOT_FOUND": "refund.not_found",
    "REFUND_NOT_EXIST": "refund.not_found",
}


def load(lang):
    """The dict of one language (imported on first use)."""
    if lang == "en":
        from firmware.display import texts_en as m
    elif lang == "zh-Hans":
        from firmware.display import texts_zh_hans as m
    elif lang == "zh-Hant":
        from firmware.display import texts_zh_hant as m
    else:
        raise ValueError("unknown language %r" % (lang,))
    return m.T


class Texts:
    def __init__(self, cashier=DEFAULT_CASHIER, customer=DEFAULT_CUSTOMER):
        self.cashier = cashier
        self.languages = tuple(customer)
        self._en = load("en")
        self._cashier = load(cashier)
        self._customer = [load(lang) for lang in self.languages]

    def _get(self, table, key, args):
        text = table.get(key)
        if text is None:
            text = self._en[key]  # KeyError for a key nobody wrote: a bug the tests catch
        return text % args if args else text

    def t(self, key, *args):
        """A sentence in the cashier's language."""
        return self._get(self._cashier, key, args)

    def customer(self, key, *args):
        """The sentence once per customer language (the same text twice shows once)."""
        out = []
        for table in self._customer:
            text = self._get(table, key, args)
            if text not in out:
                out.append(text)
        return out

    def why(self, code):
        """(sentence, known) for the code a failed sale came back with."""
        return self._code(WHY, code, "why.unknown")

    def refund_why(self, code):
        """(sentence, known) for a refund outcome or code."""
        return self._code(REFUND_WHY, code, "refund.unknown")

    def _code(self, table, code, fallback):
        key = table.get(code) if code else None
        if key is None:
            return self.t(fallback), not code
        return self.t(key), True


def every_text():
    """(language, key, text) of every sentence in the catalogue, for the tests and tools/fonts."""
    for lang in CUSTOMER_LANGUAGES:
        table = load(lang)
        for key in sorted(table):
            yield lang, key, table[key]
