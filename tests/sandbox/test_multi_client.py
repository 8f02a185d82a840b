"""Several client ids at one sandbox: system-integrator merchants with keys of their own, an ISV
client id whose merchants are named by agent token, Antom keys per client id, and merchant
registration. Every cross-merchant read or write is refused with Antom's result code."""
import pytest

from tests.sandbox.conftest import order, text_code
from tools.antom import signature

REGISTRATION = {
    "registrationRequestId": "REG-1",
    "merchantInfo": {"referenceMerchantId": "M-A", "merchantMCC": "5812", "merchantDisplayName": "Cafe A"},
    "productCodes": ["IN_STORE_PAYMENT"],
    "storeInfo": {"referenceStoreId": "S-A", "storeName": "Cafe A Main St", "storeMCC": "5812"},
}


@pytest.fixture(scope="module")
def world(sandbox):
    """Two system-integrator client ids (own keys both ways) and one ISV with two merchants."""
    w = {}
    for name in ("SI_A", "SI_B", "ISV_X"):
        key = signature.generate_private_key()
        antom_pem = sandbox.register_client(name, signature.public_pem(key), isv=name.startswith("ISV"),
                                            own_antom_key=True)
        w[name] = (key, signature.load_public_key(antom_pem))
    w["tok1"] = sandbox.add_agent("ISV_X", "Shop One")
    w["tok2"] = sandbox.add_agent("ISV_X", "Shop Two")
    return w


def call(sb, w, client_id, operation, body, agent_token=None, path=None):
    key, antom = w[client_id]
    response = sb.call(operation, body, client_id=client_id, private_key=key, agent_token=agent_token, path=path)
    assert response.status_code == 200
    assert sb.verify(response, antom), "signed with this client id's own Antom key"
    assert not sb.verify(response), "not with the sandbox's default key"
    return response.json()


def code(answer):
    return answer["result"]["resultCode"]


def test_each_client_id_has_its_own_antom_key_and_payments(sandbox, world):
    body = order()
    paid = call(sandbox, world, "SI_A", "pay", body)
    assert code(paid) == "PAYMENT_IN_PROCESS"
    mine = call(sandbox, world, "SI_A", "inquiryPayment", {"paymentRequestId": body["paymentRequestId"]})
    assert mine["paymentStatus"] == "PROCESSING"
    # merchant B asks about A's payment, by request id and by Antom's id: it does not exist for B
    for ref in ({"paymentRequestId": body["paymentRequestId"]}, {"paymentId": paid["paymentId"]}):
        assert code(call(sandbox, world, "SI_B", "inquiryPayment", ref)) == "ORDER_NOT_EXIST"
        assert code(call(sandbox, world, "SI_B", "cancel", ref)) == "ORDER_NOT_EXIST"
    sandbox.pay(text_code(paid))
    refund = {"refundRequestId": "RF-" + body["paymentRequestId"], "paymentId": paid["paymentId"],
              "refundAmount": {"currency": "USD", "value": "100"}}
    assert code(call(sandbox, world, "SI_B", "refund", refund)) == "ORDER_NOT_EXIST"
    assert code(call(sandbox, world, "SI_A", "refund", refund)) == "SUCCESS"
    assert code(call(sandbox, world, "SI_B", "inquiryRefund", {"refundRequestId": refund["refundRequestId"]})) \
        == "REFUND_NOT_EXIST"
    assert call(sandbox, world, "SI_A", "inquiryPayment", {"paymentId": paid["paymentId"]})["paymentStatus"] == "SUCCESS"


def test_an_isv_acts_only_for_the_merchant_its_agent_token_names(sandbox, world):
    body = order()
    paid = call(sandbox, world, "ISV_X", "pay", body, agent_token=world["tok1"])
    assert code(paid) == "PAYMENT_IN_PROCESS"
    ref = {"paymentRequestId": body["paymentRequestId"]}
    assert call(sandbox, world, "ISV_X", "inquiryPayment", ref, world["tok1"])["paymentStatus"] == "PROCESSING"
    # the other merchant of the same ISV: not its payment
    assert code(call(sandbox, world, "ISV_X", "inquiryPayment", ref, world["tok2"])) == "ORDER_NOT_EXIST"
    assert code(call(sandbox, world, "ISV_X", "cancel", ref, world["tok2"])) == "ORDER_NOT_EXIST"
    # the same paymentRequestId from the other merchant creates nothing and shows nothing
    again = call(sandbox, world, "ISV_X", "pay", body, agent_token=world["tok2"])
    assert code(again) == "REPEAT_REQ_INCONSISTENT" and "paymentId" not in again
    sandbox.pay(text_code(paid))
    refund = {"refundRequestId": "RF-" + body["paymentRequestId"], "paymentId": paid["paymentId"],
              "refundAmount": {"currency": "USD", "value": "50"}}
    assert code(call(sandbox, world, "ISV_X", "refund", refund, world["tok2"])) == "ORDER_NOT_EXIST"
    assert code(call(sandbox, world, "ISV_X", "refund", refund, world["tok1"])) == "SUCCESS"
    assert code(call(sandbox, world, "ISV_X", "refund", refund, world["tok2"])) == "REPEAT_REQ_INCONSISTENT"


@pytest.mark.parametrize("client_id, token", [
    ("ISV_X", None),            # an ISV without a token
    ("ISV_X", "AT-unknown"),    # a token nobody issued
    ("ISV_X", "SI_B_TOKEN"),    # a token of another ISV (none: SI_B is no ISV)
    ("SI_A", "tok1"),           # a merchant's own client id sending an ISV's token
])
def test_a_missing_or_foreign_agent_token_is_access_denied(sandbox, world, client_id, token):
    token = world.get(token, token)
    body = order()
    answer = call(sandbox, world, client_id, "pay", body, agent_token=token)
    assert answer["result"]["resultStatus"] == "F" and code(answer) == "ACCESS_DENIED"
    assert sandbox.payments(body["order"]["referenceOrderId"]) == []
    logged = sandbox.calls(operation="pay", key=body["paymentRequestId"])
    assert [(c["client_id"], c["agent_token"]) for c in logged] == [(client_id, token)]


def test_the_agent_token_is_not_part_of_the_signed_content(sandbox, world):
    """Signed as the official SDK signs (method, path, client id, time, body): the same signature
    is valid whichever agent token rides along."""
    body = order()
    answer = call(sandbox, world, "ISV_X", "pay", body, agent_token=world["tok2"])
    assert code(answer) == "PAYMENT_IN_PROCESS"
    assert [c["agent_token"] for c in sandbox.calls(operation="pay", key=body["paymentRequestId"])] == [world["tok2"]]


def test_merchant_registration_and_its_status(sandbox, world):
    path = "/ams/api/v1/merchants/"
    answer = call(sandbox, world, "ISV_X", "registration", REGISTRATION, world["tok1"], path=path + "registration")
    assert answer["result"]["resultStatus"] == "S"
    status = call(sandbox, world, "ISV_X", "inquiryRegistrationStatus", {"registrationRequestId": "REG-1"},
                  world["tok1"], path=path + "inquiryRegistrationStatus")
    assert status["registrationResult"] == {"registrationStatus": "COMPLETED"}
    by_merchant = call(sandbox, world, "ISV_X", "inquiryRegistrationStatus", {"referenceMerchantId": "M-A"},
                       world["tok1"], path=path + "inquiryRegistrationStatus")
    assert by_merchant["registrationResult"]["registrationStatus"] == "COMPLETED"
    # the other merchant of the ISV sees no such registration
    other = call(sandbox, world, "ISV_X", "inquiryRegistrationStatus", {"registrationRequestId": "REG-1"},
                 world["tok2"], path=path + "inquiryRegistrationStatus")
    assert code(other) == "REGISTRATION_NOT_EXIST"
    changed = dict(REGISTRATION, storeInfo=dict(REGISTRATION["storeInfo"], referenceStoreId="S-OTHER"))
    assert code(call(sandbox, world, "ISV_X", "registration", changed, world["tok1"],
                     path=path + "registration")) == "REPEAT_REQ_INCONSISTENT"
    no_store = {k: v for k, v in REGISTRATION.items() if k != "storeInfo"}
    no_store["registrationRequestId"] = "REG-2"
    assert code(call(sandbox, world, "SI_A", "registration", no_store, path=path + "registration")) == "PARAM_ILLEGAL"


def test_notifications_are_signed_with_the_client_ids_own_key(sandbox, world, receiver):
    from tests.waiting import wait_until
    body = order(notify_url=receiver.url)
    paid = call(sandbox, world, "SI_B", "pay", body)
    sandbox.pay(text_code(paid))
    wait_until(lambda: receiver.for_payment(paid["paymentId"]), timeout=10)
    note = receiver.for_payment(paid["paymentId"])[0]
    headers = {k.lower(): v for k, v in note["headers"].items()}
    assert headers["client-id"] == "SI_B"
    assert not note["valid"], "the receiver checks with the sandbox's default key: it must not verify"
    assert signature.verify_message(world["SI_B"][1], "POST", note["path"], "SI_B", headers["request-time"],
                                    note["body"], headers["signature"])
