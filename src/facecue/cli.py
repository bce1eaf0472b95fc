"""The `facecue` command: one subcommand per user task, thin over the library."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from facecue.errors import FacecueError
from facecue.governance.policy import JURISDICTION_HELP, PURPOSES


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="facecue",
        description="Facial-expression analysis for video interviews: "
        "observations for a human reviewer, never a hire/no-hire verdict.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    a = sub.add_parser("analyze", help="analyse a video, image or image folder -> result.json, frames.csv, report.html")
    a.add_argument("input")
    a.add_argument("-o", "--out", required=True, help="output folder")
    a.add_argument("--fps", default="5", help="frames analysed per second, or 'all' (default 5)")
    a.add_argument("--start", type=float, help="start time in seconds")
    a.add_argument("--end", type=float, help="end time in seconds")
    a.add_argument("--max-faces", type=int, help="keep at most this many faces per frame")
    a.add_argument("--detector", default="blazeface", choices=["blazeface", "dlib"])
    a.add_argument("--min-face-px", type=int, help="also find faces down to this width (slower tiled passes)")
    a.add_argument("--model", default="default", help="packaged model name or path to an exported .onnx")
    a.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    a.add_argument(
        "--signals",
        default="emotions,behaviour",
        help="what to read: 'emotions,behaviour' (default), 'behaviour' (head pose, blinks, smiles... and "
        "no emotion model at all) or 'emotions'",
    )
    a.add_argument(
        "--purpose",
        choices=PURPOSES,
        help="required: why this analysis runs; with --jurisdiction the policy table decides if it may",
    )
    a.add_argument("--jurisdiction", help=f"required: {JURISDICTION_HELP}")
    a.add_argument("--consent", help="consent record JSON (facecue consent record) when the policy requires one")
    a.add_argument("--audit-log", help="append the analysis (or its refusal) to this audit log")
    from facecue.interview.cli import add_analyze_options, add_trends_parser

    add_analyze_options(a)

    b = sub.add_parser("batch", help="analyse many interviews (CSV manifest or folder) with one process per core")
    b.add_argument(
        "manifest",
        help="CSV with a 'path' column (and candidate, purpose, jurisdiction, consent) or a folder of videos",
    )
    b.add_argument("-o", "--out", required=True, help="output folder: one subfolder per interview + summary")
    b.add_argument("--workers", type=int, help="processes (default: one per core)")
    b.add_argument("--fps", default="5", help="frames analysed per second, or 'all' (default 5)")
    b.add_argument(
        "--model",
        default="default",
        help="emotion model for every interview: packaged name or .onnx path; results of another model are redone",
    )
    b.add_argument(
        "--ray",
        metavar="ADDRESS",
        help="run as Ray tasks: a cluster address, 'auto' (the running "
        "cluster) or 'local' (start Ray here); needs the ray extra",
    )
    b.add_argument("--retries", type=int, default=2, help="extra attempts for an interview whose worker died")
    b.add_argument(
        "--purpose", choices=PURPOSES, help="for rows with no purpose (and every file of a folder); every row needs one"
    )
    b.add_argument("--jurisdiction", help=f"for rows with none (every row needs one): {JURISDICTION_HELP}")
    b.add_argument("--consent", help="consent record JSON for rows with no consent column value")
    b.add_argument(
        "--signals",
        default="emotions,behaviour",
        help="what to read: 'emotions,behaviour' (default) or 'behaviour' (no emotion model at all); a "
        "'signals' manifest column overrides it per row",
    )

    lv = sub.add_parser("live", help="analyse a webcam or network stream in real time")
    lv.add_argument("--source", default="0", help="webcam index (0) or stream URL / file")
    lv.add_argument("--fps", type=float, default=5.0)
    lv.add_argument("--seconds", type=float, help="stop after this many seconds")
    lv.add_argument("--csv", help="also append per-face rows to this CSV file")
    lv.add_argument("--purpose", choices=PURPOSES, help="required: why this runs")
    lv.add_argument("--jurisdiction", help=f"required: {JURISDICTION_HELP}")
    lv.add_argument("--consent", help="consent record JSON (facecue consent record) when the policy requires one")
    lv.add_argument(
        "--signals",
        default="emotions,behaviour",
        help="what to read: 'emotions,behaviour' (default) or 'behaviour' (head pose and facial actions, no "
        "emotion model at all)",
    )

    c = sub.add_parser("classify", help="classify face crops (FER2013-layout CSV or image folder) without detection")
    c.add_argument("input")
    c.add_argument("-o", "--out", required=True, help="predictions CSV")
    c.add_argument("--model", default="default")
    c.add_argument("--batch-size", type=int, default=256)
    c.add_argument(
        "--align",
        default="auto",
        choices=["auto", "always", "never"],
        help="re-frame photos of 64 px or more like the video pipeline (default auto); 'never' for crops "
        "framed like FER2013 already (tight, centred)",
    )

    e = sub.add_parser("evaluate", help="accuracy, macro-F1, confusion matrix and calibration on labelled faces")
    e.add_argument("--data", required=True, help="FER2013-layout CSV or class-per-folder tree")
    e.add_argument("--split", help="Usage value (CSV, e.g. PublicTest) or subfolder (tree); it must exist")
    e.add_argument("--label-map", help="JSON object mapping folder names to facecue labels")
    e.add_argument("--model", default="default")
    e.add_argument("--tta", action="store_true", help="average with mirrored faces (2x the inference cost)")
    e.add_argument(
        "--ferplus-votes",
        help="FER+ vote CSV matched row by row to --data (the full FER2013 CSV: votes whose usage or fer_label "
        "disagree with the data are refused): also score against the crowd's majority label",
    )
    e.add_argument("-o", "--out", default="evaluation", help="folder for evaluation.json and the PNG plots")

    t = sub.add_parser("train", help="train the emotion model and export it to ONNX (needs the train extra)")
    t.add_argument("--data", required=True, help="FER2013-layout CSV (gzip ok) or class-per-folder tree")
    t.add_argument("--train-split", default="Training", help="Usage value (CSV) or subfolder (tree)")
    t.add_argument("--val-data", help="validation data when it is a separate file or folder")
    t.add_argument("--val-split", default="PublicTest")
    t.add_argument("--label-map", help="JSON object mapping folder names to facecue labels")
    t.add_argument("--out", required=True, help="folder for checkpoints, metrics log and the exported model")
    t.add_argument("--epochs", type=int, default=60)
    t.add_argument("--batch-size", type=int, default=128)
    t.add_argument("--lr", type=float, default=0.05)
    t.add_argument("--width", type=int, default=32)
    t.add_argument("--seed", type=int, default=13)
    t.add_argument("--device", default="auto", help="auto, cpu or cuda")
    t.add_argument("--threads", type=int, default=0)
    t.add_argument("--restart", action="store_true", help="ignore an existing checkpoint instead of resuming")
    t.add_argument("--warmup-epochs", type=int, default=2)
    t.add_argument("--init", help="start from the weights of this checkpoint (e.g. runs/x/best.pt)")
    t.add_argument("--parity-images", help="faces with group labels (e.g. FairFace) for fairness-aware training")
    t.add_argument(
        "--parity-labels",
        help="their labels CSV (file column + --parity-col); only the 'fit' rows "
        "are used, the rest stay for `facecue fairness --split audit`",
    )
    t.add_argument(
        "--parity-col",
        default="race",
        help="group column(s) for the parity penalty, comma-separated (e.g. race,gender: batches balance the "
        "first, the penalty holds each); default race",
    )
    t.add_argument("--parity-weight", type=float, default=1.0, help="weight of the parity penalty (default 1)")
    t.add_argument("--parity-per-group", type=int, default=12, help="parity faces per group in each step")
    t.add_argument(
        "--parity-targets",
        default="angry,stress",
        help="readings the parity penalty equalises across groups: angry, stress or both (default angry,stress)",
    )
    t.add_argument(
        "--as-used",
        action="store_true",
        help="fine-tune (--init) the network as it runs in use: "
        "batch norm on its running statistics, no dropout (for --parity-labels)",
    )
    t.add_argument(
        "--teacher",
        action="append",
        help="a trained checkpoint whose readings (mirror-averaged) are soft targets; repeat for an ensemble",
    )
    t.add_argument(
        "--distill-weight",
        type=float,
        default=0.7,
        help="share of the loss given to the teachers' soft targets (default 0.7)",
    )
    t.add_argument("--distill-temperature", type=float, default=2.0, help="softmax temperature of distillation")
    t.add_argument(
        "--arch",
        default="v2",
        choices=["v1", "v2"],
        help="network: v2 (full-resolution first block, "
        "a FER2013-label head and a FER+-votes head) or v1 (the stride-2 network shipped as 'v1')",
    )
    t.add_argument("--ferplus-votes", help="FER+ vote CSV matched row by row to --data (needed by --arch v2)")
    t.add_argument(
        "--vote-share",
        default="auto",
        help="v2: share of the votes head in the exported reading, "
        "0..1, or 'auto' (best mean of FER2013-label score and FER+ agreement on validation)",
    )
    t.add_argument("--vote-weight", type=float, default=1.0, help="weight of the votes head's loss (v2, default 1)")
    t.add_argument(
        "--precision",
        default="bf16",
        choices=["bf16", "fp32"],
        help="bf16 autocast + channels_last (default; 2x float32 on AVX-512 BF16 CPUs) or float32",
    )
    t.add_argument("--loader-workers", type=int, default=1, help="processes that augment batches ahead (0: inline)")
    t.add_argument(
        "--average-with",
        action="append",
        metavar="CHECKPOINT",
        help="v2: export the average of this run's best epoch and this trained checkpoint (repeat for more); "
        "re-running a finished run only exports again",
    )
    t.add_argument(
        "--mirror", action="store_true", help="v2: the exported model also reads each face mirrored and averages"
    )
    # Not the packaged models' identity: a model trained here must not read as v1 (facecue-emotion 0.1.0) in
    # evaluation.json, a result or a fairness comparison.
    t.add_argument("--name", default="custom-emotion", help="the model's name in its sidecar and in every output")
    t.add_argument("--version", default="0.0.0", help="its version (default 0.0.0)")

    from facecue.fairness import cli as fairness_cli
    from facecue.governance.cli_commands import add_parsers as add_governance_parsers

    add_governance_parsers(sub)
    fairness_cli.add_parser(sub)
    from facecue.service.cli_commands import add_parsers as add_service_parsers

    add_service_parsers(sub)
    add_trends_parser(sub)
    from facecue.report import cli as report_cli

    report_cli.add_parser(sub)

    s = sub.add_parser("setup", help="fetch the face detector and mesh models from the official mediapipe wheel")
    s.add_argument("--sample", help="also write the embedded demo video to this path")
    return parser


def run_analyze(args) -> int:
    from facecue.governance.check import check_policy
    from facecue.options import AnalyzeOptions, check_signals, parse_fps
    from facecue.outputs import check_writable, write_outputs
    from facecue.pipeline import Analyzer

    options = AnalyzeOptions(
        fps=parse_fps(args.fps),
        start=args.start,
        end=args.end,
        max_faces=args.max_faces,
        detector=args.detector,
        model=args.model,
        min_face_px=args.min_face_px,
        progress=not args.quiet and sys.stderr.isatty(),
        signals=check_signals(args.signals),
    )
    if not args.out.strip():  # Path("") is the current folder: an empty -o wrote the outputs there
        raise FacecueError("-o needs an output folder, not an empty name.")
    if not options.emotions and args.model != "default":
        raise FacecueError("--model has no use with --signals behaviour: no emotion model is loaded.")
    out = Path(args.out)
    decision, consent = check_policy(args)
    subject = consent.subject_id if consent is not None else None
    from facecue.interview.cli import interview_request, start_voice_measurement

    interview = interview_request(args, subject)  # parses questions/transcript first: mistakes show at once
    check_writable(out)
    analyzer = Analyzer(options)
    interview.voice_track = start_voice_measurement(args)
    result = analyzer.analyze(
        args.input,
        purpose=decision.purpose,
        jurisdiction=decision.jurisdiction,
        consent=consent,
        interview=interview,
    )  # the library's gate checks again, right before decoding
    if args.audit_log:
        from facecue.governance import AuditLog

        AuditLog(Path(args.audit_log)).append(
            "facecue-cli",
            "analysed",
            subject=subject,
            details={"sha256": result.source.sha256, "purpose": args.purpose},
        )
    paths = write_outputs(result, out, subject_id=subject)  # the subject's manifest: `facecue erase` finds it all
    if not args.quiet:
        s = result.summary
        print(
            f"analysed {s.frames_analysed} frames in {s.processing_s:.1f}s"
            + (f" ({s.realtime_factor}x real time)" if s.realtime_factor else "")
        )
        if s.no_face:
            print("no face found in any analysed frame")
        elif options.emotions:
            print(
                f"candidate's face visible in {s.face_presence:.0%} of frames, {s.abstained:.0%} abstained; "
                f"most shown expression: {s.dominant or 'n/a'}"
            )
        elif s.behaviour is not None:
            b = s.behaviour
            print(
                f"behaviour only (no emotion inferred): candidate's face visible in {s.face_presence:.0%} of "
                f"frames; nods {b['nods']['value']}, head shakes {b['head_shakes']['value']}, smiling "
                + (f"{b['smile_share']['value']:.0%}" if b["smile_share"]["value"] is not None else "n/a")
                + f" of {b['readable_s']:.0f} readable s"
            )
        for note in result.notes:
            print(f"note: {note}")
        print("wrote " + ", ".join(str(p) for p in paths.values()))
    return 0


def run_batch(args) -> int:
    from facecue.batch import read_manifest
    from facecue.batch import run_batch as run_jobs
    from facecue.emotion.model import resolve_model_path
    from facecue.options import AnalyzeOptions, check_signals, parse_fps

    resolve_model_path(args.model)  # a wrong name is one clear error before any worker starts
    options = AnalyzeOptions(fps=parse_fps(args.fps), signals=check_signals(args.signals), model=args.model).to_dict()
    jobs = read_manifest(Path(args.manifest), args.purpose or "", args.jurisdiction or "", args.consent or "")
    if not jobs:
        raise FacecueError(f"{args.manifest} lists no videos.")
    if args.workers is not None and args.workers < 1:
        raise FacecueError("--workers must be at least 1.")
    if args.retries < 0:
        raise FacecueError("--retries must be zero or more.")
    outcomes = run_jobs(
        jobs,
        Path(args.out),
        args.workers,
        options,
        progress=sys.stderr.isatty(),
        ray_address=args.ray,
        retries=args.retries,
    )
    counts = {s: sum(o.status == s for o in outcomes) for s in ("done", "skipped", "failed")}
    print(
        f"{counts['done']} analysed, {counts['skipped']} already done, {counts['failed']} failed; "
        f"summary in {Path(args.out) / 'summary.csv'}"
    )
    for o in outcomes:
        if o.status == "failed":
            print(f"failed: {o.path}: {o.error}", file=sys.stderr)
    return 0 if counts["failed"] == 0 else 1


def run_classify(args) -> int:
    from facecue.emotion.classify import classify_to_csv
    from facecue.emotion.model import EmotionModel

    counts = classify_to_csv(
        Path(args.input), Path(args.out), EmotionModel.load(args.model), batch=args.batch_size, align=args.align
    )
    print(
        f"classified {counts['classified']} faces ({counts['aligned']} re-framed by face alignment), "
        f"{counts['unreadable']} unreadable; wrote {args.out}"
    )
    return 0


def run_evaluate(args) -> int:
    from facecue.emotion.evaluate import evaluate, write_evaluation
    from facecue.emotion.model import EmotionModel
    from facecue.errors import InputError
    from facecue.train.command import load_label_map
    from facecue.train.data import load_dataset

    if args.split and Path(args.data).is_dir() and not (Path(args.data) / args.split).is_dir():
        raise InputError(f"{args.data} has no subfolder {args.split!r} to evaluate (--split).")
    data = load_dataset(Path(args.data), args.split, load_label_map(args.label_map))
    votes = None
    if args.ferplus_votes:
        from facecue.train.data import load_ferplus_votes

        votes = load_ferplus_votes(Path(args.ferplus_votes), data, args.split)
        if not votes.any():
            raise InputError(
                f"none of the {len(data)} faces has votes in {args.ferplus_votes} (votes are matched on the "
                "FER2013 CSV's row numbers)."
            )
    model = EmotionModel.load(args.model)
    if args.tta and model.info.sidecar.architecture.get("averaged", {}).get("mirror"):
        print("note: this model already reads every face and its mirror image; --tta would only double the cost")
        args.tta = False
    report = evaluate(model, data.images, data.labels, tta=args.tta, crowd_votes=votes)
    report["data"] = {
        "path": str(args.data),
        "split": args.split,
        "sha256": data.sha256,
        "n": len(data),
        "skipped": dict(data.skipped),
    }
    # Enough to reproduce the numbers: what was asked for, the vote file, and when and with which facecue.
    import datetime as dt
    import hashlib

    from facecue import __version__

    report["model"]["requested"] = str(args.model)
    if args.ferplus_votes:
        digest = hashlib.sha256(Path(args.ferplus_votes).read_bytes()).hexdigest()
        report["data"]["ferplus_votes"] = {"path": str(args.ferplus_votes), "sha256": digest}
    report["created_at"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    report["facecue_version"] = __version__
    paths = write_evaluation(report, Path(args.out))
    print(
        f"n={report['n']}  accuracy {report['accuracy']:.4f}  macro-F1 {report['macro_f1']:.4f}  "
        f"ECE {report['ece']:.4f} (uncalibrated {report['ece_uncalibrated']:.4f})"
        + ("  [flip TTA]" if args.tta else "")
        + f"  {report['faces_per_s']:.0f} faces/s"
    )
    for name, r in report["per_class"].items():
        print(
            f"  {name:9s} precision {r['precision']:.3f}  recall {r['recall']:.3f}  f1 {r['f1']:.3f}  n={r['support']}"
        )
    if "ferplus" in report:
        crowd = report["ferplus"]
        print(
            f"FER+ crowd majority: agrees on {crowd['agreement']:.4f} of {crowd['n']} faces with votes "
            f"(macro-F1 {crowd['macro_f1']:.4f})"
        )
        split = crowd["labels"]
        parts = [
            f"where they {word} {split[f'accuracy_where_{key}']:.4f} ({split[f'n_{key}']} faces)"
            for word, key in (("agree", "agreed"), ("differ", "disputed"))
            if split[f"n_{key}"]
        ]
        if parts:
            print(
                f"  the labels agree with the crowd's majority on {split['agree_with_crowd']:.4f}; accuracy "
                + ", ".join(parts)
            )
    print("wrote " + ", ".join(str(p) for p in paths.values()))
    return 0


def run_setup(args) -> int:
    from facecue.vision.models import setup_models

    sample = Path(args.sample) if args.sample else None
    if sample is not None:  # checked before the models are fetched
        if sample.suffix.lower() != ".mp4":
            raise FacecueError(f"--sample {sample}: the sample is an mp4 video; give a path ending in .mp4.")
        if sample.is_dir():
            raise FacecueError(f"--sample {sample} is a folder; give the path of the .mp4 file to write.")
    setup_models()
    if sample is not None:
        from facecue.io.sample import make_sample_video

        print(f"sample video: {make_sample_video(sample)}")
    return 0


def run_live(args) -> int:
    from facecue.live import run_live_cli

    return run_live_cli(args)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from facecue.fairness import cli as fairness_cli
    from facecue.governance.cli_commands import RUNNERS as governance_commands
    from facecue.interview.cli import run_trends
    from facecue.report import cli as report_cli
    from facecue.service.cli_commands import RUNNERS as service_commands

    commands = {
        "analyze": run_analyze,
        "classify": run_classify,
        "evaluate": run_evaluate,
        "setup": run_setup,
        "live": run_live,
        "batch": run_batch,
        "fairness": fairness_cli.run,
        "trends": run_trends,
        "report": report_cli.run,
        **governance_commands,
        **service_commands,
    }
    try:
        if args.command == "train":
            from facecue.train.command import run_train

            return run_train(args)
        return commands[args.command](args)
    except FacecueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        # A path the commands did not check themselves (a folder given as a file, a read-only place): one sentence
        # naming it, not a traceback. Whatever the command had written before stays as it was.
        where = f" {exc.filename}" if exc.filename else ""
        print(f"error: cannot use{where}: {exc.strerror or exc}.", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
