"""`python -m localcloud`: serve the emulated Google (and other) APIs on loopback, Proxmox VE on
its own TLS port, and AWS (moto's server) on its own port."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from localcloud import aws, tls
from localcloud.app import create_app
from localcloud.serving import serve


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m localcloud", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8090)
    parser.add_argument("--data-dir", type=Path, default=Path(".data/localcloud"))
    parser.add_argument("--lro-delay", type=float, default=1.0, help="seconds an LRO stays pending")
    parser.add_argument(
        "--build-seconds", type=float, default=2.0, help="seconds a Cloud Build build runs"
    )
    parser.add_argument(
        "--proxmox-port",
        type=int,
        default=8006,
        help="the TLS port Proxmox VE api2/json is served on (0: not served)",
    )
    parser.add_argument(
        "--proxmox-task-seconds", type=float, default=1.0, help="seconds a Proxmox task runs"
    )
    parser.add_argument(
        "--aws-port",
        type=int,
        default=0,
        help="the port AWS (moto's server, seeded with EC2 instances) is served on (0: not served)",
    )
    parser.add_argument(
        "--aws-lazy",
        action="store_true",
        help="start (and seed) AWS only at the first GET /_localcloud/aws (tests)",
    )
    parser.add_argument("--log-level", default="warning")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper())
    app = create_app(args.data_dir, args.lro_delay, args.build_seconds, args.proxmox_task_seconds)
    if args.aws_port:
        aws.start(args.host, args.aws_port, lazy=args.aws_lazy)
    certfile = keyfile = None
    if args.proxmox_port:
        # The CA (`<data dir>/tls/ca.pem`) is what the platform trusts (`proxmox_ca_bundle`).
        certfile, keyfile = tls.ensure_certificates(args.data_dir)
    serve(app, args.host, args.port, args.log_level, args.proxmox_port, certfile, keyfile)


if __name__ == "__main__":
    main()
