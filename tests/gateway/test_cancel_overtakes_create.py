"""A cancel that overtakes its own create (the create was delayed on the way) leaves a tombstone.

The terminal takes a signed 404 to its cancel as "never created" and shows CANCELLED. The gateway
therefore remembers the cancel, on disk, and refuses the late create of that order id with a
signed 409 ORDER_CANCELLED naming the order: no payable code can live behind a CANCELLED screen.
"""


def test_cancel_of_an_unseen_order_is_a_signed_404_naming_it(gateway, t1):
    r = t1.cancel("T1-overtaken1")
    assert (r.status, r.code, r.verified) == (404, "NOT_FOUND", True)
    assert r.body["order_id"] == "T1-overtaken1"


def test_late_create_after_the_cancel_is_refused_and_reaches_no_one(gateway, t1, sandbox):
    assert t1.cancel("T1-overtaken2").status == 404
    r = t1.create("T1-overtaken2", 1250, "USD", "Coffee")
    assert (r.status, r.code, r.verified) == (409, "ORDER_CANCELLED", True)
    assert r.body["order_id"] == "T1-overtaken2"
    assert sandbox.payments(reference_order_id="T1.T1-overtaken2") == []
    assert t1.status("T1-overtaken2").status == 404  # still no payment; the cancel stays true
    again = t1.cancel("T1-overtaken2")  # a retried cancel answers the same
    assert (again.status, again.body["order_id"]) == (404, "T1-overtaken2")
    kinds = [e["kind"] for e in gateway.store.events("T1", "T1-overtaken2")]
    assert kinds == ["cancelled_before_create", "create_after_cancel_refused"]


def test_tombstone_is_per_terminal(gateway, t1):
    gateway.add_terminal("T2", pin="123456")
    t2 = gateway.client("T2")
    assert t1.cancel("shared-id").status == 404
    assert t2.create("shared-id", 100, "USD", "").status == 200


def test_tombstone_survives_a_gateway_restart(gateway_process, sandbox):
    gp = gateway_process.start()
    gp.add_terminal("T1", pin="123456")
    t1 = gp.client("T1")
    assert t1.cancel("T1-overtaken3").status == 404
    gp.kill()  # SIGKILL: only what was committed survives
    gp.start()
    t1 = gp.client("T1")
    r = t1.create("T1-overtaken3", 1250, "USD", "")
    assert (r.status, r.code, r.verified) == (409, "ORDER_CANCELLED", True)
    assert sandbox.payments(reference_order_id="T1.T1-overtaken3") == []


def test_cancel_of_a_created_order_leaves_no_tombstone(gateway, t1):
    assert t1.create("T1-normal1", 100, "USD", "").status == 200
    r = t1.cancel("T1-normal1")
    assert r.status == 200 and r.body["status"] == "CANCELLED"
    assert gateway.store.cancelled_order("T1", "T1-normal1") is None
