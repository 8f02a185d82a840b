"""The link to the gateway: Wi-Fi, time, HTTP(S), request signing, the gateway client, the workers that run calls."""
