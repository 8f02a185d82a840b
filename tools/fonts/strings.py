"""Strings the fonts must cover that are not (yet) string constants of the device code.

tools/fonts/subset.py adds every character of these to the fonts, beside those of the device
sources. Customer-facing lines in Chinese belong in the firmware's text catalogue (which the
subsetter reads by itself); this list holds what must be drawable before the catalogue has it.
"""
EXTRA = (
    # zh-Hans: QR screen and results, customer side
    "请使用支付宝或任意 Alipay+ 钱包扫码付款",
    "扫码付款", "支付宝", "钱包", "金额", "已付款", "支付成功", "支付失败", "已取消", "已过期", "已退款",
    "正在确认", "请稍候", "未扣款", "订单", "剩余时间", "秒", "分", "商户",
    # zh-Hant
    "請使用支付寶或任意 Alipay+ 錢包掃碼付款",
    "掃碼付款", "支付寶", "錢包", "金額", "已付款", "支付成功", "支付失敗", "已取消", "已過期", "已退款",
    "正在確認", "請稍候", "未扣款", "訂單", "剩餘時間", "秒", "分", "商戶",
    # Latin-1 letters for merchant names ("Café"; the large font only has what fits its line)
    "ÆÇØßàáâãäæçèéêëìíîïñòóôõöøùúûüýÿ",  # accented capitals are taller than the line box
)
