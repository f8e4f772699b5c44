"""Regenerate the Python gRPC stubs beside every .proto under protos/ (``make protos``).

``python -m services.protogen --check`` regenerates into a temporary folder and exits 1 when any
committed stub differs, which is how the test suite catches stale stubs.
"""

from __future__ import annotations

import argparse
import filecmp
import sys
import tempfile
from importlib import resources
from pathlib import Path

from core.paths import repo_root

__all__ = ["generate", "stale_stubs"]

PROTO_ROOT = repo_root() / "protos"
SUFFIXES = ("_pb2.py", "_pb2.pyi", "_pb2_grpc.py")


def _protos() -> list[Path]:
    return sorted(PROTO_ROOT.glob("mds/**/*.proto"))


def generate(out_dir: Path = PROTO_ROOT) -> list[Path]:
    """Run protoc (grpcio-tools) over every proto; return the generated files."""
    from grpc_tools import protoc

    protos = _protos()
    include = str(resources.files("grpc_tools") / "_proto")
    args = ["protoc", f"-I{PROTO_ROOT}", f"-I{include}", f"--python_out={out_dir}",
            f"--pyi_out={out_dir}", f"--grpc_python_out={out_dir}",
            *[str(p.relative_to(PROTO_ROOT)) for p in protos]]
    if protoc.main(args) != 0:
        raise RuntimeError("protoc failed")
    generated = []
    for proto in protos:
        rel = proto.relative_to(PROTO_ROOT).with_suffix("")
        for suffix in SUFFIXES:
            generated.append(out_dir / rel.parent / (rel.name + suffix))
    # Packages for the generated modules (mds/, mds/<svc>/, mds/<svc>/v1/).
    for proto in protos:
        folder = out_dir / proto.relative_to(PROTO_ROOT).parent
        while folder != out_dir:
            (folder / "__init__.py").touch()
            folder = folder.parent
    return generated


def stale_stubs() -> list[str]:
    """Generated files that differ from (or are missing beside) their protos."""
    with tempfile.TemporaryDirectory() as tmp:
        fresh = generate(Path(tmp))
        stale = []
        for path in fresh:
            committed = PROTO_ROOT / path.relative_to(Path(tmp))
            if not committed.exists() or not filecmp.cmp(path, committed, shallow=False):
                stale.append(str(committed.relative_to(repo_root())))
        return stale


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="only report stale stubs")
    if parser.parse_args().check:
        stale = stale_stubs()
        for path in stale:
            print(f"stale: {path}")
        sys.exit(1 if stale else 0)
    for generated in generate():
        print(generated.relative_to(repo_root()))


if __name__ == "__main__":
    main()
