"""Emotion classifier speed on ONE CPU core: ms per face at batch 1 and faces/s batched.

Baseline, timed in the same run: the float32 export of the same network (when present
beside the model as <name>-fp32.onnx), so the printed ratio is the gain of int8 inference;
and a fixed numpy matmul workload that shows how loaded the machine was.
Usage: python bench/classifier.py [--model default] [--seconds 3]
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np

from facecue.emotion.model import EmotionModel, resolve_model_path


def timed(fn, seconds: float) -> float:
    """Median seconds per call over repeated calls for about `seconds`."""
    fn()
    samples, start = [], time.perf_counter()
    while time.perf_counter() - start < seconds or len(samples) < 5:
        t = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t)
    return float(np.median(samples))


def measure(model: EmotionModel, seconds: float) -> dict:
    rng = np.random.default_rng(0)
    one = rng.integers(0, 255, (1, 48, 48), dtype=np.uint8)
    out = {"batch1_ms": timed(lambda: model.predict(one), seconds) * 1000}
    for batch in (16, 64, 256):
        faces = rng.integers(0, 255, (batch, 48, 48), dtype=np.uint8)
        out[f"batch{batch}_faces_per_s"] = batch / timed(lambda faces=faces: model.predict(faces), seconds)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="default")
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    path = resolve_model_path(args.model)
    a = np.random.default_rng(1).random((256, 256), dtype=np.float32)
    print(f"reference numpy 256x256 matmul: {timed(lambda: a @ a, 1.0) * 1e6:.0f} us")
    results = {path.name: measure(EmotionModel.load(path, threads=1), args.seconds)}
    fp32 = path.with_name(path.stem + "-fp32.onnx")
    if fp32.exists():
        results[fp32.name + " (baseline)"] = measure(EmotionModel.load(fp32, threads=1), args.seconds)
    for name, r in results.items():
        print(
            f"{name}: batch 1 {r['batch1_ms']:.2f} ms/face; "
            + ", ".join(f"batch {k[5:].split('_')[0]} {v:.0f} faces/s" for k, v in r.items() if k != "batch1_ms")
        )
    if len(results) == 2:
        main_r, base = results.values()
        print(
            f"ratio int8/fp32: batch-1 latency x{base['batch1_ms'] / main_r['batch1_ms']:.2f} faster, "
            f"batch-256 throughput x{main_r['batch256_faces_per_s'] / base['batch256_faces_per_s']:.2f}"
        )
    r = results[path.name]
    size_mb = path.stat().st_size / 1e6
    print(
        f"targets (model v2 issue): batch-1 <= 2.5 ms -> {'met' if r['batch1_ms'] <= 2.5 else 'NOT met'}; "
        f">= 600 faces/s batched -> {'met' if r['batch256_faces_per_s'] >= 600 else 'NOT met'}; "
        f"ONNX file {size_mb:.1f} MB <= 10 MB -> {'met' if size_mb <= 10 else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
