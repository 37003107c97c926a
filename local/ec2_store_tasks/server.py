"""Run moto's server with the store-task actions installed."""

from __future__ import annotations

import urllib.request

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


def reset_server(server: ThreadedMotoServer) -> None:
    """Forget all of moto's state, the store tasks included, through moto's own reset endpoint."""
    request = urllib.request.Request(f"{endpoint_url(server)}/moto-api/reset", method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        if response.status != 200:
            raise RuntimeError(f"moto's reset answered HTTP {response.status}")
