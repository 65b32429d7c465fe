"""Regenerate the control plane's Python modules from `control.proto` (see `__init__`).

`python -m nyquestro.control.generate [OUT_DIR]` writes them beside the proto, or under
OUT_DIR (the check in the tests compares such a copy with the checked-in files).
"""

import sys
from pathlib import Path

from grpc_tools import protoc

PROTO = "nyquestro/control/control.proto"
GENERATED = ("control_pb2.py", "control_pb2.pyi", "control_pb2_grpc.py", "control_pb2_grpc.pyi")
ROOT = Path(__file__).resolve().parents[2]
"""The directory the proto's path is relative to (its imports name the package)."""


def generate(out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    out = str(out_dir)
    # mypy-protobuf's plugins sit beside this interpreter, which need not be on PATH.
    plugins = [
        f"--plugin=protoc-gen-{name}={Path(sys.executable).parent / f'protoc-gen-{name}'}"
        for name in ("mypy", "mypy_grpc")
    ]
    status = protoc.main(
        [
            "grpc_tools.protoc",
            *plugins,
            f"-I{ROOT}",
            f"--python_out={out}",
            f"--mypy_out={out}",
            f"--grpc_python_out={out}",
            f"--mypy_grpc_out={out}",
            str(ROOT / PROTO),
        ]
    )
    if status != 0:
        raise RuntimeError(f"protoc failed on {PROTO} (exit status {status})")


if __name__ == "__main__":
    generate(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT)
