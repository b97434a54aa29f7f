"""`altaviz-models`: benchmarks, CSV scoring, evaluation, and (from the hub) the model life cycle.

Commands that need the hub (train, publish, rollback, retrain, serve-bundles, registry)
come from the `altaviz.models.commands` entry point group, so this package never
imports the hub (hub/models_lifecycle/cli.py registers them).
"""

from __future__ import annotations

import argparse
import logging
import sys
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from shared.cli_support import configure_logging, run_cli

PROG = "altaviz-models"
PLUGIN_GROUP = "altaviz.models.commands"


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__)
    parser.add_argument("--log-level", default="WARNING", help="DEBUG, INFO, WARNING (default)")
    commands = parser.add_subparsers(dest="command", required=True)

    bench = commands.add_parser("benchmark", help="reproduce a public benchmark")
    datasets = bench.add_subparsers(dest="dataset", required=True)
    skab = datasets.add_parser("skab", help="SKAB outlier-detection protocol (F1/FAR/MAR)")
    skab.add_argument("--data", type=Path, required=True, help="SKAB root (holds valve1/ ...)")
    skab.add_argument("--out", type=Path, help="write one flag CSV per labelled file here")
    cmapss = datasets.add_parser("cmapss", help="C-MAPSS FD001 RUL: unit-wise CV, test predictions")
    cmapss.add_argument("--train", type=Path, required=True, help="train_FD001.txt")
    cmapss.add_argument("--test", type=Path, required=True, help="test_FD001.txt")
    cmapss.add_argument("--out", type=Path, required=True, help="CSV of unit,rul_pred")
    cmapss.add_argument("--folds", type=int, default=5, help="GroupKFold folds (default 5)")
    cmapss.add_argument("--units", type=int, help="use only the first N training engines")
    cmapss.add_argument("--seed", type=int, default=0, help="truncation points and model seed")
    cmapss.add_argument("--threads", type=int, default=1, help="OpenMP threads for tree fits")

    score = commands.add_parser("score-csv", help="fit on normal rows, score every row")
    score.add_argument("--input", type=Path, required=True)
    fit_source = score.add_mutually_exclusive_group(required=True)
    fit_source.add_argument("--normal", type=Path, help="CSV of normal operation to fit on")
    fit_source.add_argument("--fit-rows", type=int, help="fit on the first N rows of --input")
    score.add_argument("--columns", nargs="+", help="sensor columns (default: all numeric)")
    score.add_argument("--out", type=Path, required=True)

    evaluate = commands.add_parser(
        "evaluate", help="every compressor model on a simulator run against its ground truth"
    )
    evaluate.add_argument("--run", type=Path, required=True, help="evaluation run directory")
    evaluate.add_argument("--train-run", type=Path, help="labelled run to train the RUL model on")
    evaluate.add_argument("--thresholds", type=Path, default=Path("config/thresholds.yaml"))
    evaluate.add_argument("--threads", type=int, default=1, help="BLAS/OpenMP threads")
    for plugin in _plugins():
        plugin.register(commands)
    return parser


def _plugins() -> list[Any]:
    """Command providers from the `altaviz.models.commands` entry point group."""
    found = []
    for entry in entry_points(group=PLUGIN_GROUP):
        try:
            found.append(entry.load())
        except ImportError as exc:  # the hub extra is not installed: its commands are absent
            logging.getLogger(__name__).debug("%s not loaded: %s", entry.name, exc)
    return found


def _benchmark_skab(args: argparse.Namespace) -> int:
    from models.skab import run_benchmark, write_flags

    result = run_benchmark(args.data)
    pooled = result.pooled
    test_rows = pooled.tp + pooled.fp + pooled.fn + pooled.tn
    print(f"SKAB outlier protocol: {len(result.files)} files, {test_rows} test rows")
    print(f"F1 {pooled.f1:.3f}  FAR {pooled.far_pct:.2f} %  MAR {pooled.mar_pct:.2f} %")
    print(f"TP {pooled.tp}  FP {pooled.fp}  FN {pooled.fn}  TN {pooled.tn}")
    if args.out:
        written = write_flags(result, args.out)
        print(f"wrote {len(written)} flag files under {args.out}")
    return 0


def _benchmark_cmapss(args: argparse.Namespace) -> int:
    from models.cmapss import run_benchmark

    report = run_benchmark(
        args.train,
        args.test,
        args.out,
        folds=args.folds,
        units=args.units,
        seed=args.seed,
        threads=args.threads,
    )
    for line in report.lines():
        print(line)
    return 0


def _score_csv(args: argparse.Namespace) -> int:
    from models.csv_scoring import score_csv

    summary = score_csv(
        args.input, args.out, normal_path=args.normal, fit_rows=args.fit_rows, columns=args.columns
    )
    print(
        f"scored {summary.rows} rows on {len(summary.columns)} columns "
        f"(fit on {summary.fit_rows} rows, threshold {summary.threshold:.4g}): "
        f"{summary.flagged} flagged -> {args.out}"
    )
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from threadpoolctl import threadpool_limits

    from models.drift import DriftLimits
    from models.evaluate_cmd import EvaluationSetup, run_evaluation

    setup = EvaluationSetup(limits=DriftLimits.from_thresholds(args.thresholds))
    with threadpool_limits(limits=args.threads):
        lines = run_evaluation(args.run, args.train_run, setup)
    for line in lines:
        print(line)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script."""
    args = _build_parser().parse_args(argv)
    configure_logging(args.log_level)

    def work() -> int:
        handler = getattr(args, "handler", None)
        if handler is not None:
            return int(handler(args))
        if args.command == "score-csv":
            return _score_csv(args)
        if args.command == "evaluate":
            return _evaluate(args)
        if args.dataset == "skab":
            return _benchmark_skab(args)
        return _benchmark_cmapss(args)

    return run_cli(PROG, work)


if __name__ == "__main__":
    sys.exit(main())
