"""The link to the gateway: one owner (owner.py) of Wi-Fi, time (the RTC), the two lanes and their kept-alive HTTP(S) connections; request signing, the gateway client."""
