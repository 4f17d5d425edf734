#!/usr/bin/env python3
"""A local buf plugin that generates atone's Python SDK with grpcio-tools.

buf (a local plugin, no network, no system protoc) sends a CodeGeneratorRequest on stdin.
This shim writes the request's file descriptors to a descriptor set, runs the protoc that
grpcio-tools bundles (``grpc_tools.protoc``) on it with ``--python_out``, ``--pyi_out``
and ``--grpc_python_out``, and hands the files back to buf as a CodeGeneratorResponse.
It also emits an empty ``__init__.py`` in the directory of each generated proto package
(``atone/v1/``), so that it is a regular package; parent packages (``atone/``) are the
SDK's own hand-written code.

Run it with the Python that has grpcio-tools (the venv ``scripts/test-web`` makes in
``$HOME/.cache/atone-tools/venv``); see "Client SDKs" in README.md.

Plugin options (buf.gen.yaml ``opt``): ``no_pyi`` skips the .pyi stubs, ``no_grpc``
skips the *_pb2_grpc.py service stubs.
"""

from __future__ import annotations

import os
import sys
import tempfile

try:
    from google.protobuf import descriptor_pb2
    from google.protobuf.compiler import plugin_pb2
    from grpc_tools import protoc
except ImportError as exc:  # pragma: no cover - a setup error, reported to buf
    sys.stderr.write(
        f"protoc_gen_grpc_tools: {exc}. Run buf with a Python that has grpcio-tools "
        "installed (e.g. PATH=$HOME/.cache/atone-tools/venv/bin:$PATH).\n"
    )
    sys.exit(1)


def main() -> int:
    request = plugin_pb2.CodeGeneratorRequest.FromString(sys.stdin.buffer.read())
    options = {o.strip() for o in request.parameter.split(",") if o.strip()}
    unknown = options - {"no_pyi", "no_grpc"}
    response = plugin_pb2.CodeGeneratorResponse(
        supported_features=plugin_pb2.CodeGeneratorResponse.FEATURE_PROTO3_OPTIONAL
    )
    if unknown:
        response.error = f"unknown option(s): {', '.join(sorted(unknown))}"
        sys.stdout.buffer.write(response.SerializeToString())
        return 0

    with tempfile.TemporaryDirectory(prefix="protoc-gen-grpc-tools-") as tmp:
        descriptor_set = os.path.join(tmp, "request.binpb")
        with open(descriptor_set, "wb") as f:
            f.write(descriptor_pb2.FileDescriptorSet(file=request.proto_file).SerializeToString())
        out = os.path.join(tmp, "out")
        os.mkdir(out)
        args = ["grpc_tools.protoc", f"--descriptor_set_in={descriptor_set}", f"--python_out={out}"]
        if "no_pyi" not in options:
            args.append(f"--pyi_out={out}")
        if "no_grpc" not in options:
            args.append(f"--grpc_python_out={out}")
        args.extend(request.file_to_generate)
        if protoc.main(args) != 0:
            response.error = "grpc_tools.protoc failed (see its messages above)"
            sys.stdout.buffer.write(response.SerializeToString())
            return 0

        generated: dict[str, str] = {}
        for root, _dirs, files in os.walk(out):
            for name in files:
                path = os.path.join(root, name)
                rel = os.path.relpath(path, out).replace(os.sep, "/")
                with open(path, encoding="utf-8") as f:
                    generated[rel] = f.read()
        for proto in request.file_to_generate:
            package_dir = os.path.dirname(proto)
            if package_dir:
                generated.setdefault(f"{package_dir}/__init__.py", "")

    for name in sorted(generated):
        response.file.add(name=name, content=generated[name])
    sys.stdout.buffer.write(response.SerializeToString())
    return 0


if __name__ == "__main__":
    sys.exit(main())
