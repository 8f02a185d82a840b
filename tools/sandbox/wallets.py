"""The Alipay+ wallets a sandbox customer can pay with (docs/sandbox.md lists them).

`psp_name` is what the sandbox reports in `pspCustomerInfo.pspName`: the wallet's Alipay+ enum value
(docs.alipayplus.com, "MPP capabilities"); `display_name` is the brand a cashier reads ("Paid with
GCash"); `currency` is what the customer's balance is in; `customer_id` says whether the wallet
shares its customer id (Antom: pspCustomerInfo "is returned when the digital wallet can provide the
related information"; BPI does not, per the same Alipay+ table).
"""
import hashlib
from dataclasses import dataclass

from tools.antom.wallets import brand


@dataclass(frozen=True)
class Wallet:
    psp_name: str
    display_name: str
    currency: str
    region: str
    customer_id: bool = True


WALLETS = (
    Wallet("ALIPAY_CN", brand("ALIPAY_CN"), "CNY", "CN"),
    Wallet("ALIPAY_HK", brand("ALIPAY_HK"), "HKD", "HK"),
    Wallet("GCASH", brand("GCASH"), "PHP", "PH"),
    Wallet("KAKAOPAY", brand("KAKAOPAY"), "KRW", "KR"),
    Wallet("TNG", brand("TNG"), "MYR", "MY"),
    Wallet("DANA", brand("DANA"), "IDR", "ID"),
    Wallet("TRUEMONEY", brand("TRUEMONEY"), "THB", "TH"),
    Wallet("BOOST", brand("BOOST"), "MYR", "MY"),
    Wallet("RABBIT_LINE_PAY", brand("RABBIT_LINE_PAY"), "THB", "TH"),
    Wallet("BPI", brand("BPI"), "PHP", "PH", customer_id=False),
)
BY_NAME = {wallet.psp_name: wallet for wallet in WALLETS}
DEFAULT = "ALIPAY_CN"  # a script's pay without --wallet, as before wallets existed


def find(name: str | None) -> Wallet | None:
    """The wallet of that pspName (case-insensitive), None when unknown."""
    if not isinstance(name, str):
        return None
    return BY_NAME.get(name.strip().upper())


def customer_info(wallet: Wallet) -> dict:
    """pspCustomerInfo for the sandbox's one customer of this wallet: a stable id per wallet, and
    a masked form for receipts (Antom's displayCustomerId)."""
    info = {"pspName": wallet.psp_name}
    if wallet.customer_id:
        digits = str(int(hashlib.sha256(wallet.psp_name.encode()).hexdigest(), 16))[:16]
        info["pspCustomerId"] = "2088" + digits
        info["displayCustomerId"] = "****" + digits[-4:]
    return info
