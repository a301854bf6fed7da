"""`python -m app`: serve with uvicorn on AKAR host/port settings (HOST and PORT for make run)."""

from __future__ import annotations

import argparse

import uvicorn

from app.config import get_settings
from app.main import configure_logging, create_app


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve akar-gate.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()
    settings = get_settings()
    configure_logging(settings.log_level)
    uvicorn.run(create_app(settings), host=args.host, port=args.port, log_level=settings.log_level)


if __name__ == "__main__":
    main()
