"""Python code for the contract, generated from proto/ with grpcio-tools into
build/pyproto (as a mobile team would generate theirs), then importable."""
import glob
import os
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "build", "pyproto")


def load():
    from grpc_tools import protoc

    os.makedirs(OUT, exist_ok=True)
    protos = sorted(glob.glob(os.path.join(ROOT, "proto", "jazz", "**", "*.proto"), recursive=True))
    well_known = os.path.join(os.path.dirname(protoc.__file__), "_proto")
    args = ["protoc", f"-I{os.path.join(ROOT, 'proto')}", f"-I{well_known}",
            f"--python_out={OUT}", f"--grpc_python_out={OUT}", *protos]
    if protoc.main(args) != 0:
        raise SystemExit("protoc failed")
    for folder, _, _ in os.walk(OUT):
        init = os.path.join(folder, "__init__.py")
        if not os.path.exists(init):
            open(init, "w").close()
    sys.path.insert(0, OUT)
