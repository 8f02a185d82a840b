"""Whatever a (signed) client sends, the sandbox answers a signed JSON result: never a crash."""
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.sandbox.conftest import order
from tools.sandbox import currencies, faults, rules

scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
                    st.text(max_size=80))
json_values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=20), inner, max_size=4)), max_leaves=20)
FIELDS = ["productCode", "paymentRequestId", "paymentAmount", "paymentMethod", "paymentFactor", "order",
          "paymentNotifyUrl", "paymentExpiryTime", "paymentId", "refundRequestId", "refundAmount", "refundId"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operation=st.sampled_from(["pay", "inquiryPayment", "cancel", "refund", "inquiryRefund"]),
       field=st.sampled_from(FIELDS), value=json_values)
def test_any_field_value_gets_a_signed_result(sandbox, operation, field, value):
    body = order()
    body[field] = value
    response = sandbox.call(operation, json.dumps(body))
    assert response.status_code == 200
    assert sandbox.verify(response)
    result = response.json()["result"]
    assert result["resultStatus"] in ("S", "F", "U") and result["resultCode"] != "UNKNOWN_EXCEPTION"


def test_amount_display_follows_the_currency_exponent():
    assert currencies.display("USD", 123) == "USD 1.23"
    assert currencies.display("JPY", 123) == "JPY 123"
    assert currencies.display("KWD", 1005) == "KWD 1.005"
    assert currencies.display("EUR", 5) == "EUR 0.05"


def test_fault_markers_parse_with_defaults_and_reject_typos():
    assert faults.from_description("x [fault:pay-lost] [fault:slow=1.5] [fault:http-500=3]") == {
        "pay-lost": 1, "slow": 1.5, "http-500": 3}
    assert faults.from_description("no markers [fault] [other:x]") == {}
    for bad in ("[fault:pay-los]", "[fault:skew]", "[fault:cancel-window=2]", "[fault:http-500=-1]"):
        try:
            faults.from_description(bad)
        except rules.Invalid as problem:
            assert problem.code == "PARAM_ILLEGAL"
        else:
            raise AssertionError(bad)
