"""Run moto's server with the store-task actions installed."""

from __future__ import annotations

from moto.server import ThreadedMotoServer

from .wire import install


def start_server(host: str = "127.0.0.1", port: int = 0, *, verbose: bool = False) -> ThreadedMotoServer:
    """Install the actions and start a `ThreadedMotoServer` (port 0: any free port); call `.stop()` after."""
    install()
    server = ThreadedMotoServer(ip_address=host, port=port, verbose=verbose)
    server.start()
    return server


def endpoint_url(server: ThreadedMotoServer) -> str:
    host, port = server.get_host_and_port()
    return f"http://{host}:{port}"
