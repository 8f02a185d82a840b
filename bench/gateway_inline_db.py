"""`python bench/gateway_inline_db.py -m tools.gateway ARGS...`: the gateway with every store call
made on its event loop, as before issue 15.4 (tools/gateway/dbcalls.InlineCalls in place of the
thread pool). Only bench/bench_db_offloop.py uses it, for its before/after comparison."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tools.gateway import dbcalls  # noqa: E402

dbcalls.DbCalls = lambda *args, **kwargs: dbcalls.InlineCalls()

if __name__ == "__main__":
    from tools.gateway.__main__ import main
    if sys.argv[1:3] != ["-m", "tools.gateway"]:
        sys.exit("use: python bench/gateway_inline_db.py -m tools.gateway ARGS...")
    sys.exit(main(sys.argv[3:]))
