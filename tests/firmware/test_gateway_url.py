"""Plain http:// to the gateway only to this machine: the supervisor PIN must not cross a network
in the clear (issue 12.4). The simulator's gateway is on loopback, so it keeps working."""
import pytest

from firmware import config
from tests.firmware.fakes import make_config

CA = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"


@pytest.mark.parametrize("url", ["http://127.0.0.1:8700", "http://127.3.2.1", "http://localhost:8000/gw",
                                 "http://LOCALHOST", "http://[::1]:8700", "http://127.0.0.1:8700/?x"])
def test_plain_http_to_loopback_is_accepted(url):
    assert make_config(gateway={"url": url}).gateway_url == url.rstrip("/")


@pytest.mark.parametrize("url", ["http://192.168.1.10:8000", "http://gw.local:8000", "http://pay.example.com",
                                 "http://128.0.0.1", "http://127.0.0.1.evil.com", "http://localhost.evil.com",
                                 "http://[::2]", "http://127.0.0.256", "http://10.0.0.1/127.0.0.1"])
def test_plain_http_to_another_host_is_refused_saying_why(url):
    with pytest.raises(config.ConfigError) as e:
        make_config(gateway={"url": url})
    (problem,) = [p for p in e.value.problems if p.startswith("gateway.url")]
    assert "http:// is allowed only to this machine" in problem and "https://" in problem


@pytest.mark.parametrize("url", ["http://127.0.0.1@evil.com", "https://user:pw@pay.example.com", "http://", "https:///v1"])
def test_gateway_url_without_a_plain_host_is_refused(url):
    with pytest.raises(config.ConfigError) as e:
        make_config(gateway={"url": url, "ca_cert": CA})
    assert [p for p in e.value.problems if p.startswith("gateway.url")]


def test_https_to_any_host_is_accepted():
    assert make_config(gateway={"url": "https://pay.example.com", "ca_cert": CA}).gateway_url == "https://pay.example.com"
