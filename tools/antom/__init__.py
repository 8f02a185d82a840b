"""What both sides of the Antom API implement from the spec: the RSA256 signing rules.

Shared by the gateway (an Antom client) and the sandbox (an Antom server) the way a real client and
a real server share a spec: nothing here knows either side's business.
"""
