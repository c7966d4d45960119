"""Writes onnx-proto.ts: ONNX's onnx-ml.proto (the ONNX-ML flavour of the schema, proto2) as a
string, with comments and blank lines removed, for protobufjs to parse at run time.

Source: Debian's python3-onnx 1.12.0, /usr/lib/python3/dist-packages/onnx/onnx-ml.proto,
SPDX-License-Identifier: Apache-2.0 (the ONNX project). Run:
  /usr/bin/python3 packages/core/src/interop/onnx/make_proto_module.py
"""
import os
import re

import onnx

source = os.path.join(os.path.dirname(onnx.__file__), "onnx-ml.proto")
with open(source) as f:
    text = f.read()
lines = []
for line in text.splitlines():
    line = re.sub(r"//.*$", "", line).rstrip()
    if line.strip():
        lines.append(line)
body = "\n".join(lines).replace("\\", "\\\\").replace("`", "\\`").replace("${", "\\${")
here = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(here, "onnx-proto.ts"), "w") as out:
    out.write(
        "// ONNX's onnx-ml.proto (ONNX " + onnx.__version__ + ", IR version "
        + str(onnx.IR_VERSION) + "), comments removed; made by make_proto_module.py.\n"
        "// Copyright (c) ONNX Project Contributors. SPDX-License-Identifier: Apache-2.0\n"
        "// (https://www.apache.org/licenses/LICENSE-2.0).\n\n"
        "/** The ONNX-ML protobuf schema, for protobufjs. */\n"
        "export const ONNX_ML_PROTO = `" + body + "\n`;\n"
    )
