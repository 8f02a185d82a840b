"""The currencies the sandbox accepts: every ISO 4217 code in tools/antom/currencies.py
(CURRENCY_NOT_SUPPORT otherwise), with its minor-unit exponent."""
from tools.antom.currencies import KNOWN, display, exponent  # noqa: F401 (this module's API)
