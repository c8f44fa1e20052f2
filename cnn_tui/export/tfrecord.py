"""TensorBoard's event-file framing (TFRecord): length, masked CRC-32C of the length, data,
masked CRC-32C of the data. Our own because tensorboard's writer computes the CRC in pure
Python (10 us a record here); google-crc32c does it in C (0.1 us), which a million-step
export needs to stay under 30 s."""

from __future__ import annotations

import struct
from typing import IO

import google_crc32c

MASK_DELTA = 0xA282EAD8


def masked_crc32c(data: bytes) -> int:
    crc = int(google_crc32c.value(data))
    return (((crc >> 15) | (crc << 17)) + MASK_DELTA) & 0xFFFFFFFF


def record(data: bytes) -> bytes:
    header = struct.pack("<Q", len(data))
    return header + struct.pack("<I", masked_crc32c(header)) + data + struct.pack("<I", masked_crc32c(data))


def write_record(handle: IO[bytes], data: bytes) -> None:
    handle.write(record(data))
