"""Inputs that slipped past the other robustness tests: each must be a clean PARAM_ILLEGAL / 400."""
import json

import httpx

from tests.sandbox.conftest import order
from tools.sandbox import faults, rules


def test_lone_surrogate_in_a_string_is_param_illegal(sandbox):
    # JSON may escape a lone surrogate ("\ud800"); it cannot be stored or echoed as UTF-8
    body = order()
    body["paymentRequestId"] = "\ud800"
    response = sandbox.call("pay", json.dumps(body))
    assert sandbox.verify(response)
    assert response.json()["result"]["resultCode"] == "PARAM_ILLEGAL"


def test_fault_seconds_must_be_finite_and_sane():
    for bad in ("[fault:slow=nan]", "[fault:slow=inf]", "[fault:skew=1e400]", "[fault:skew=1e300]",
                "[fault:notify-late=-inf]"):
        try:
            faults.from_description(bad)
        except rules.Invalid as problem:
            assert problem.code == "PARAM_ILLEGAL"
        else:
            raise AssertionError(bad)
    assert faults.from_description("[fault:skew=-30]") == {"skew": -30.0}


def test_description_marker_with_absurd_skew_is_param_illegal_not_500(sandbox):
    response = sandbox.call("pay", json.dumps(order(description="x [fault:skew=1e300]")))
    assert response.status_code == 200 and sandbox.verify(response)
    assert response.json()["result"]["resultCode"] == "PARAM_ILLEGAL"


def test_admin_faults_with_non_finite_seconds_is_400(sandbox):
    for spec in ("slow=nan", "slow=1e400"):
        r = httpx.post(sandbox.admin_url + "/_sandbox/faults", json={"faults": [spec]}, trust_env=False)
        assert r.status_code == 400, (spec, r.status_code, r.text)


def test_notify_url_that_cannot_be_requested_is_param_illegal(sandbox):
    # accepted before, these left the notification stuck: no attempt counted, an exception per tick
    for url in ("http://", "http://[::1", "https://127.0.0.1:99999/x", "http://127.0.0.1:1/\x00",
                "http://a b/", "http:///path", "http://xn--/"):
        response = sandbox.call("pay", json.dumps(order(notify_url=url)))
        assert sandbox.verify(response)
        assert response.json()["result"]["resultCode"] == "PARAM_ILLEGAL", url
    ok = sandbox.call("pay", json.dumps(order(notify_url="http://[::1]:8080/antom/notify")))
    assert ok.json()["result"]["resultCode"] == "PAYMENT_IN_PROCESS"


def test_pay_command_with_a_malformed_url_is_an_error_line_not_a_traceback():
    import subprocess
    import sys
    done = subprocess.run([sys.executable, "-m", "tools.sandbox", "pay", "http://[::1"],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 2 and done.stderr.startswith("error:") and "Traceback" not in done.stderr
