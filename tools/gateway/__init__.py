"""The merchant gateway: terminal API, Antom client, notifications, reconciler, SQLite store, CLI.

See docs/gateway.md (running it) and docs/protocol.md (what terminals speak).
"""
