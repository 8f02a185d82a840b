"""繁體中文 (zh-Hant): the customer's lines of the QR and result screens (catalogue: texts.py).
The cashier's screens are in en or zh-Hans."""
T = {
    "qr.wallets": "支援支付寶及任何 Alipay+ 錢包付款",
    "qr.wallets_short": "支付寶或任何 Alipay+ 錢包",
    "paid.note": "付款成功",
    "no_payment": "未扣款",
    "expired.note": "付款碼已過期",
    "cancelled.note": "交易已取消",
}
