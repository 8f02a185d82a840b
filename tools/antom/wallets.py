"""Alipay+ wallets by the name Antom reports in `pspCustomerInfo.pspName`, with the brand name a
cashier reads. Spec data (docs.alipayplus.com, "MPP capabilities": enum value and brand name) that
the gateway (to tell the terminal) and the sandbox (to play the wallets) both need.
"""
BRANDS = {
    "ALIPAY_CN": "Alipay", "ALIPAY_HK": "AlipayHK", "GCASH": "GCash", "KAKAOPAY": "Kakao Pay",
    "TNG": "TNG eWallet", "DANA": "DANA", "TRUEMONEY": "TrueMoney", "BOOST": "Boost",
    "RABBIT_LINE_PAY": "Rabbit LINE Pay", "BPI": "BPI", "NAVERPAY": "NAVER Pay", "TOSSPAY": "Toss",
    "MAYA": "Maya", "MPAY": "MPay", "HIPAY": "HiPay", "GRABPAY_SG": "GrabPay",
}


def brand(psp_name: str) -> str:
    """The wallet's brand name; an unknown wallet keeps its pspName (still readable, never empty)."""
    return BRANDS.get(psp_name, psp_name)
