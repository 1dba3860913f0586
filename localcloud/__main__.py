"""`python -m localcloud`: serve the emulated Google (and other) APIs on loopback."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import uvicorn

from localcloud.app import create_app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m localcloud", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8090)
    parser.add_argument("--data-dir", type=Path, default=Path(".data/localcloud"))
    parser.add_argument("--lro-delay", type=float, default=1.0, help="seconds an LRO stays pending")
    parser.add_argument(
        "--build-seconds", type=float, default=2.0, help="seconds a Cloud Build build runs"
    )
    parser.add_argument("--log-level", default="warning")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper())
    app = create_app(args.data_dir, args.lro_delay, args.build_seconds)
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level)


if __name__ == "__main__":
    main()
