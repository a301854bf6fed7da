"""The checked-in gRPC code is what `make grpc-code` makes from the checked-in .proto."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PROTO = Path("app/grpc_api/proto/open_inference.proto")
GENERATED = ["open_inference_pb2.py", "open_inference_pb2.pyi", "open_inference_pb2_grpc.py"]


def test_the_generated_code_is_made_from_the_proto(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable, "-m", "grpc_tools.protoc", "-I", ".", f"--python_out={tmp_path}",
            f"--pyi_out={tmp_path}", f"--grpc_python_out={tmp_path}", str(PROTO),
        ],
        cwd=REPO, check=True, timeout=120,
    )  # fmt: skip
    for name in GENERATED:
        made = (tmp_path / PROTO.parent / name).read_text()
        assert made == (REPO / PROTO.parent / name).read_text(), f"{name}: run `make grpc-code`"
