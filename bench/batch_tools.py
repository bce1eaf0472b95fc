"""Helpers the batch benchmarks share: many distinct videos cheaply, and the pool's worker processes."""

from __future__ import annotations

import csv
from pathlib import Path

import av


def practice_args(folder: Path) -> list[str]:
    """`--purpose practice --jurisdiction OTHER --consent FILE`: every analysis of a person states why and where,
    benchmarks included (the consent record is the benchmark's own, written into `folder`)."""
    from facecue.governance import ConsentRecord, render_notice

    folder.mkdir(parents=True, exist_ok=True)
    notice = render_notice("practice", "OTHER", "facecue benchmark")
    path = ConsentRecord.for_notice(notice, "bench-subject").save(folder / "bench-consent.json")
    return ["--purpose", "practice", "--jurisdiction", "OTHER", "--consent", str(path)]


def distinct_copies(src: Path, folder: Path, n: int) -> list[Path]:
    """n copies of src with different container metadata (so different sha256) but the same frames:
    remuxed packet by packet, no re-encoding, so making 200 takes seconds."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        dst = folder / f"interview{i:03d}.mp4"
        paths.append(dst)
        if dst.exists():
            continue
        tmp = dst.with_name(".tmp-" + dst.name)
        with av.open(str(src)) as inp, av.open(str(tmp), "w", format="mp4") as out:
            out.metadata["comment"] = f"facecue batch benchmark copy {i}"
            streams = {s.index: out.add_stream_from_template(s) for s in inp.streams if s.type in ("video", "audio")}
            for packet in inp.demux(*[inp.streams[k] for k in streams]):
                if packet.dts is None:
                    continue
                packet.stream = streams[packet.stream.index]
                out.mux(packet)
        tmp.rename(dst)
    return paths


def children(pid: int) -> list[int]:
    kids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                kids.append(int(entry.name))
    return kids


def pool_workers(batch_pid: int) -> list[int]:
    """A `facecue batch` process's pool workers: the children of the forkserver it started."""
    workers = []
    for kid in children(batch_pid):
        try:
            if b"forkserver" in Path(f"/proc/{kid}/cmdline").read_bytes():
                workers += children(kid)
        except OSError:
            continue
    return workers


def descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        kids = children(todo.pop())
        found += kids
        todo += kids
    return found


def ray_task_workers(batch_pid: int) -> list[int]:
    """Ray worker processes running a facecue batch task (Ray names them after the task) under a batch."""
    pids = []
    for pid in descendants(batch_pid):
        try:
            if Path(f"/proc/{pid}/cmdline").read_bytes().startswith(b"ray::_ray_task"):
                pids.append(pid)
        except OSError:
            continue
    return pids


def read_summary(out: Path) -> list[dict]:
    with open(out / "summary.csv", newline="") as handle:
        return list(csv.DictReader(handle))
