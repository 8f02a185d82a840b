"""Every word the terminal can put on its screen: one catalogue, per language.

    texts = Texts(cashier="en", customer=("en", "zh-Hans"))
    texts.t("idle.prompt")              -> "Enter amount"                (the cashier's language)
    texts.t("hint.stop", "CANCEL")      -> "CANCEL: stop"
    texts.customer("paid.note")         -> ["Payment received", "付款成功"]  (one per customer language)
    texts.why("ORDER_IS_CLOSED")        -> ("Declined in the wallet", True)
    texts.why("SOMETHING_NEW")          -> ("The payment did not go through", False): log the code

The words live in one `key = text` file per language (texts_en.txt, texts_zh_hans.txt,
texts_zh_hant.txt beside this module) and stay on flash: only the configured languages are
opened, and each keeps a table of line offsets in RAM (lib/kvfile.py), not its strings. A
language without a key falls back to English (zh-Hant carries only the customer's lines). Codes
never reach the screen: every result and error code the gateway or Antom can send maps to a
sentence a cashier can act on (reasons.txt, `why:` and `refund:`), anything else to a generic
one. The glyph-and-fit test (tests/display) and the font subsetter (tools/fonts) read the whole
catalogue through firmware/display/catalogue.py, which the device never imports. The host's tools (firmware/config.py's checker in tools/terminal) read the
constants only, without lib/ on their path: lib/kvfile.py is imported where a file is opened.
"""

CASHIER_LANGUAGES = ("en", "zh-Hans")
CUSTOMER_LANGUAGES = ("en", "zh-Hans", "zh-Hant")
DEFAULT_CASHIER = "en"
DEFAULT_CUSTOMER = ("en", "zh-Hans")
MAX_CUSTOMER = 2  # lines per customer sentence that fit the smallest panel

# The customer-facing lines: shown once per configured customer language.
CUSTOMER_KEYS = ("qr.wallets", "paid.note", "no_payment", "expired.note", "cancelled.note")

_FILES = {"en": "texts_en.txt", "zh-Hans": "texts_zh_hans.txt", "zh-Hant": "texts_zh_hant.txt"}
_HERE = "firmware/display/"


def path(lang):
    """Where a language's file is (found along sys.path, as the device's flash root)."""
    import kvfile
    name = _FILES.get(lang)
    if name is None:
        raise ValueError("unknown language %r" % (lang,))
    return kvfile.find(_HERE + name)


class Texts:
    def __init__(self, cashier=DEFAULT_CASHIER, customer=DEFAULT_CUSTOMER):
        import kvfile
        self.cashier = cashier
        self.languages = tuple(customer)
        opened = {}

        def table(lang):
            if lang not in opened:
                opened[lang] = kvfile.KVFile(path(lang))
            return opened[lang]

        self._en = table("en")
        self._cashier = table(cashier)
        self._customer = [table(lang) for lang in self.languages]
        self._reasons = kvfile.KVFile(kvfile.find(_HERE + "reasons.txt"))

    def _get(self, table, key, args):
        text = table.get(key)
        if text is None:
            text = self._en.get(key)
            if text is None:
                raise KeyError(key)  # a key nobody wrote: a bug the tests catch
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
        return self._code("why:", code, "why.unknown")

    def refund_why(self, code):
        """(sentence, known) for a refund outcome or code."""
        return self._code("refund:", code, "refund.unknown")

    def _code(self, kind, code, fallback):
        key = self._reasons.get(kind + code) if isinstance(code, str) and code else None
        if key is None:
            return self.t(fallback), not code
        return self.t(key), True
