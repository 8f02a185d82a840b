"""PAID names the wallet ("Paid with GCash") and the customer's own amount on every panel, for
every wallet the gateway knows, without dropping or cutting a line."""
import pytest

import textdraw
from tools.antom.wallets import BRANDS
from tools.sim.snapshot import SCREENS, Options, render

PANELS = ["st7789-135x240", "st7789-240x320"]


@pytest.mark.parametrize("panel", PANELS)
def test_paid_with_each_wallet_fits(panel, monkeypatch):
    for brand in sorted(BRANDS.values()):
        monkeypatch.setitem(SCREENS, "paid-wallet",
                            lambda s, o, brand=brand: s.paid(o.amount, brand, "KRW 1,234,567"))
        rig = render("paid-wallet", panel, Options(encoder="segno"))
        assert rig.screens.dropped == 0, brand
        texts = []
        for b in rig.screens._boxes.values():
            if b[5] in ("text", "runs"):
                runs = ((b[6], b[7]),) if b[5] == "text" else b[6]
                assert textdraw.runs_width(runs) <= b[3], (brand, b[6])
                texts.append("".join(r[0] for r in runs))
        joined = " ".join(texts)
        assert "KRW 1,234,567" in joined and brand.split()[-1] in joined, joined
