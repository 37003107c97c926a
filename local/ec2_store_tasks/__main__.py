"""`python -m local.ec2_store_tasks [--host H] [--port P] [--real-time]`: moto server with store tasks."""

from __future__ import annotations

import argparse
import threading

from .clock import CLOCK
from .server import endpoint_url, start_server


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m local.ec2_store_tasks", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument(
        "--real-time", action="store_true", help="let the emulator clock follow the wall clock"
    )
    args = parser.parse_args(argv)
    server = start_server(args.host, args.port)
    CLOCK.real_time = args.real_time
    print(f"moto with EC2 store tasks listening on {endpoint_url(server)}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    main()
