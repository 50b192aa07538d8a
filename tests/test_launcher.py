"""`make run`'s launcher: prints where everything is, and Ctrl-C stops it all."""
import socket

from tests.conftest import start_product


def _port_open(port: str) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", int(port))) == 0


def test_ready_banner_then_ctrl_c_stops_every_process(tmp_path):
    product = start_product(tmp_path)
    banner = product.output.read_text()
    assert f"http://127.0.0.1:{product.env['RASA_PORT']}/webhooks/rest/webhook" in banner
    ports = [product.env[name] for name in ("RASA_PORT", "ACTION_SERVER_PORT", "BACKEND_PORT")]
    assert all(_port_open(port) for port in ports)
    assert product.stop() == 0
    assert not any(_port_open(port) for port in ports)
