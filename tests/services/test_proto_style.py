"""The protos follow buf's STANDARD lint rules in spirit: checked on the compiled descriptors."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest
from google.protobuf.descriptor import Descriptor, EnumDescriptor, FileDescriptor

PROTO_ROOT = Path(__file__).resolve().parents[2] / "protos"
FILES = sorted(PROTO_ROOT.glob("mds/**/*.proto"))
SNAKE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")
PASCAL = re.compile(r"^[A-Z][A-Za-z0-9]*$")
UPPER_SNAKE = re.compile(r"^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$")


def _descriptor(proto: Path) -> FileDescriptor:
    module = ".".join(proto.relative_to(PROTO_ROOT).with_suffix("").parts) + "_pb2"
    return importlib.import_module(module).DESCRIPTOR


def _messages(container: FileDescriptor | Descriptor) -> list[Descriptor]:
    found = []
    for message in container.message_types_by_name.values() if isinstance(container, FileDescriptor) \
            else container.nested_types:
        found.append(message)
        found.extend(_messages(message))
    return found


def _enums(fd: FileDescriptor) -> list[EnumDescriptor]:
    return list(fd.enum_types_by_name.values()) + [e for m in _messages(fd) for e in m.enum_types]


@pytest.mark.parametrize("proto", FILES, ids=lambda p: str(p.relative_to(PROTO_ROOT)))
def test_proto_file_follows_standard_rules(proto: Path):
    fd = _descriptor(proto)
    parts = proto.relative_to(PROTO_ROOT).parts
    assert fd.package == ".".join(parts[:-1]), "PACKAGE_DIRECTORY_MATCH"
    assert re.fullmatch(r"mds\.[a-z]+\.v\d+", fd.package), "PACKAGE_VERSION_SUFFIX"
    assert fd.services_by_name, "each proto file defines at least one service"
    for service in fd.services_by_name.values():
        assert service.name.endswith("Service") and PASCAL.match(service.name), "SERVICE_SUFFIX"
        for method in service.methods:
            assert PASCAL.match(method.name), "RPC_PASCAL_CASE"
            assert method.input_type.name == f"{method.name}Request", "RPC_REQUEST_STANDARD_NAME"
            assert method.output_type.name in (f"{method.name}Response", f"{service.name[:-7]}{method.name}Response"), \
                "RPC_RESPONSE_STANDARD_NAME"
    for message in _messages(fd):
        assert PASCAL.match(message.name), f"MESSAGE_PASCAL_CASE: {message.name}"
        for field in message.fields:
            assert SNAKE.match(field.name), f"FIELD_LOWER_SNAKE_CASE: {message.name}.{field.name}"
    for enum in _enums(fd):
        prefix = re.sub(r"(?<!^)(?=[A-Z])", "_", enum.name).upper() + "_"
        assert enum.values[0].name == prefix + "UNSPECIFIED" and enum.values[0].number == 0, \
            f"ENUM_ZERO_VALUE_SUFFIX: {enum.name}"
        for value in enum.values:
            assert UPPER_SNAKE.match(value.name) and value.name.startswith(prefix), f"ENUM_VALUE_PREFIX: {value.name}"
