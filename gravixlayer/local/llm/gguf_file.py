"""Reading a GGUF file: metadata, vocabulary and dequantized float32 weights.

Why not ``gguf.GGUFReader``: it builds a numpy view per array element, which
takes ~5 s for the 49,152 tokens and 48,900 merges of SmolLM2's vocabulary on
two busy cores. The header is parsed here with ``struct`` (~0.1 s); tensor
bytes are memory-mapped and dequantized with ``gguf.quants.dequantize`` (the
reference numpy implementation of llama.cpp's block formats).
"""

from __future__ import annotations

import mmap
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

__all__ = ["GGUFFile", "TensorInfo"]

_MAGIC = b"GGUF"
_ALIGNMENT_KEY = "general.alignment"
_SCALARS: dict[int, str] = {
    0: "<B",
    1: "<b",
    2: "<H",
    3: "<h",
    4: "<I",
    5: "<i",
    6: "<f",
    7: "<?",
    10: "<Q",
    11: "<q",
    12: "<d",
}
_STRING, _ARRAY = 8, 9


@dataclass(frozen=True)
class TensorInfo:
    name: str
    shape: tuple[int, ...]
    """numpy order (slowest dimension first), i.e. GGUF's dimensions reversed."""
    type_id: int
    offset: int


class _Cursor:
    def __init__(self, data: bytes | mmap.mmap) -> None:
        self.data = data
        self.pos = 0

    def unpack(self, fmt: str) -> Any:
        size = struct.calcsize(fmt)
        value = struct.unpack_from(fmt, self.data, self.pos)[0]
        self.pos += size
        return value

    def string(self) -> str:
        length = self.unpack("<Q")
        raw = self.data[self.pos : self.pos + length]
        self.pos += length
        return bytes(raw).decode("utf-8", errors="replace")

    def value(self, type_id: int) -> Any:
        if type_id == _STRING:
            return self.string()
        if type_id == _ARRAY:
            item_type, count = self.unpack("<I"), self.unpack("<Q")
            if item_type in _SCALARS:
                fmt = _SCALARS[item_type]
                size = struct.calcsize(fmt)
                values = list(struct.unpack_from(f"<{count}{fmt[1]}", self.data, self.pos))
                self.pos += size * count
                return values
            return [self.value(item_type) for _ in range(count)]
        return self.unpack(_SCALARS[type_id])


class GGUFFile:
    """A GGUF file, memory-mapped: ``metadata`` dict and ``tensor(name)`` as float32."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        with open(self.path, "rb") as handle:
            self._map = _map(handle)
        cursor = _Cursor(self._map)
        if bytes(self._map[:4]) != _MAGIC:
            raise ValueError(f"{self.path} is not a GGUF file")
        cursor.pos = 4
        version = cursor.unpack("<I")
        if version < 2:
            raise ValueError(f"GGUF version {version} is not supported")
        n_tensors, n_kv = cursor.unpack("<Q"), cursor.unpack("<Q")
        self.metadata: dict[str, Any] = {}
        for _ in range(n_kv):
            key = cursor.string()
            self.metadata[key] = cursor.value(cursor.unpack("<I"))
        infos = []
        for _ in range(n_tensors):
            name = cursor.string()
            n_dims = cursor.unpack("<I")
            dims = [cursor.unpack("<Q") for _ in range(n_dims)]
            type_id, offset = cursor.unpack("<I"), cursor.unpack("<Q")
            infos.append(TensorInfo(name, tuple(reversed(dims)), type_id, offset))
        alignment = int(self.metadata.get(_ALIGNMENT_KEY, 32))
        self._data_start = -(-cursor.pos // alignment) * alignment
        self.tensors = {info.name: info for info in infos}

    def tensor(self, name: str) -> npt.NDArray[np.float32]:
        """The named tensor dequantized to a float32 array of its numpy shape."""
        import numpy as np
        from gguf.constants import GGML_QUANT_SIZES, GGMLQuantizationType
        from gguf.quants import dequantize

        info = self.tensors[name]
        qtype = GGMLQuantizationType(info.type_id)
        block, type_size = GGML_QUANT_SIZES[qtype]
        count = int(np.prod(info.shape))
        nbytes = count // block * type_size
        start = self._data_start + info.offset
        raw = np.frombuffer(self._map, dtype=np.uint8, count=nbytes, offset=start)
        rows = raw.reshape(*info.shape[:-1], info.shape[-1] // block * type_size)
        out = dequantize(rows, qtype)
        return np.ascontiguousarray(out.reshape(info.shape), dtype=np.float32)


def _map(handle: BinaryIO) -> mmap.mmap:
    return mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
