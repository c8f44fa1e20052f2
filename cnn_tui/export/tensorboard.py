"""`export --to tensorboard DIR`: one event file that `tensorboard --logdir DIR` reads.

Scalars keep the names of events.jsonl; the per-step ones are prefixed `step/` so they do
not mix with the epoch's of the same name (step/train/loss every few steps, train/loss at
each epoch's end). One TensorBoard event holds every scalar of a row (TensorBoard reads
each value as a point of its tag). Style-transfer snapshots become images.
"""

from __future__ import annotations

import socket
import time
from pathlib import Path

from tensorboard.compat.proto.event_pb2 import Event
from tensorboard.compat.proto.summary_pb2 import Summary

from cnn_tui.contract.events import Image
from cnn_tui.export.scalars import TABLES, Row, read_everything
from cnn_tui.export.tb_event import scalar_event
from cnn_tui.export.tfrecord import write_record

FILE_VERSION = "brain.Event:2"  # what TensorBoard's own writers put first


def event_file_name() -> str:
    return f"events.out.tfevents.{int(time.time())}.{socket.gethostname()}.cnn-tui"


def _image_summary(run_dir: Path, image: Image) -> Summary | None:
    from PIL import Image as PILImage

    path = Path(image.path) if Path(image.path).is_absolute() else run_dir / image.path
    try:
        encoded = path.read_bytes()
        with PILImage.open(path) as picture:
            width, height = picture.size
            channels = len(picture.getbands())
    except OSError:
        return None  # a snapshot deleted since: the scalars still go out
    img = Summary.Image(height=height, width=width, colorspace=channels, encoded_image_string=encoded)
    return Summary(value=[Summary.Value(tag=f"images/{image.tag}", image=img)])


def export_tensorboard(run_dir: Path, folder: Path) -> dict[str, int]:
    """Write the event file into `folder`; returns points written per table (and images)."""
    counts: dict[str, int] = {}
    with open(folder / event_file_name(), "wb") as handle:
        write_record(handle, Event(wall_time=time.time(), file_version=FILE_VERSION).SerializeToString())
        for item in read_everything(run_dir):
            if isinstance(item, Row):
                write_record(handle, scalar_event(item.t, item.step, item.values.items(), TABLES[item.table][1]))
                counts[item.table] = counts.get(item.table, 0) + 1
            else:
                image_summary = _image_summary(run_dir, item)
                if image_summary is None:
                    continue
                write_record(handle, Event(wall_time=item.t, step=item.step, summary=image_summary).SerializeToString())
                counts["images"] = counts.get("images", 0) + 1
    return counts
