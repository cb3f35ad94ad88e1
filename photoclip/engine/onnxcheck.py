"""Cheap checks of a file that claims to be an ONNX model, made before anything is copied.

An ONNX model is one protobuf ``ModelProto``. Its top-level fields can be walked by reading only
their tags and lengths, skipping the payloads, so a 20 GB file of junk (or a renamed video) is
refused after reading a few bytes, and a truncated model is refused without loading it.
"""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

from photoclip.errors import ModelError

PROTOBUF_LIMIT = (1 << 31) - 1  # a serialized protobuf cannot be larger; bigger models use external data
_VARINT, _I64, _LEN, _I32 = 0, 1, 2, 5
# ModelProto fields: ir_version, producer_name, producer_version, domain, model_version, doc_string,
# graph, opset_import, metadata_props, training_info, functions, configuration.
_KNOWN = {1: _VARINT, 2: _LEN, 3: _LEN, 4: _LEN, 5: _VARINT, 6: _LEN, 7: _LEN, 8: _LEN, 14: _LEN, 20: _LEN,
          25: _LEN, 26: _LEN}
_MAX_FIELDS = 100_000


def _varint(fh: BinaryIO) -> int | None:
    value = shift = 0
    for _ in range(10):
        byte = fh.read(1)
        if not byte:
            return None
        value |= (byte[0] & 0x7F) << shift
        if byte[0] < 0x80:
            return value
        shift += 7
    return None


def check_onnx_file(path: Path) -> None:
    """Raise ModelError unless ``path`` is laid out like an ONNX model (ir_version, graph, exact length)."""
    try:
        size = path.stat().st_size
        if size == 0:
            raise ModelError(f"{path} is empty: it is not an ONNX model.")
        if size > PROTOBUF_LIMIT:
            raise ModelError(
                f"{path} is {size / 2**30:.1f} GiB: an ONNX file cannot exceed 2 GiB (larger models keep their "
                "weights in a separate .onnx_data file). It is not a usable model."
            )
        with open(path, "rb") as fh:
            _walk(fh, size, path)
    except OSError as exc:
        raise ModelError(f"Cannot read {path}: {exc.strerror or exc}") from exc


def _walk(fh: BinaryIO, size: int, path: Path) -> None:
    seen: set[int] = set()
    ir_version = 0
    not_onnx = ModelError(f"{path} is not an ONNX model (its contents are not an ONNX ModelProto).")
    for _ in range(_MAX_FIELDS):
        position = fh.tell()
        if position == size:
            break
        tag = _varint(fh)
        if tag is None:
            raise not_onnx
        number, wire = tag >> 3, tag & 7
        if number == 0 or _KNOWN.get(number, wire) != wire or wire not in (_VARINT, _I64, _LEN, _I32):
            raise not_onnx
        if wire == _VARINT:
            value = _varint(fh)
            if value is None:
                raise not_onnx
            if number == 1:
                ir_version = value
        elif wire == _LEN:
            length = _varint(fh)
            if length is None or fh.tell() + length > size:
                raise ModelError(f"{path} is truncated or damaged: a part of the model runs past the end of the file.")
            fh.seek(length, 1)
        else:
            fh.seek(8 if wire == _I64 else 4, 1)
        seen.add(number)
    else:
        raise not_onnx
    if fh.tell() != size:
        raise not_onnx
    if 7 not in seen or not 1 <= ir_version <= 64:
        raise ModelError(f"{path} is not an ONNX model (it has no graph or no valid IR version).")
