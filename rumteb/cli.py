"""The ``rumteb`` command line. ``main(argv) -> int`` is the console script and the test entry point."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rumteb import __version__

logger = logging.getLogger("rumteb")

_EPILOG = """\
examples:
  rumteb tasks
  rumteb data pull --benchmark ruMTEB --to ~/rumteb-data      # on a machine with Hub access
  rumteb data verify ~/rumteb-data                            # anywhere, before an offline run
"""


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser (also used to generate the CLI reference in the docs)."""
    parser = argparse.ArgumentParser(
        prog="rumteb",
        description="ruMTEB, the Russian text-embedding benchmark, on top of mteb.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"rumteb {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv for debug)")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True

    _add_run_parser(commands)
    _add_table_parser(commands)
    from rumteb import cards, compare, plot
    from rumteb import check as leaderboard_check

    compare.register_cli(commands)
    plot.register_cli(commands)
    leaderboard_check.register_cli(commands)
    cards.register_cli(commands)
    from rumteb.models import recipe_cli

    recipe_cli.register_cli(commands)
    _add_mteb_parser(commands)

    tasks = commands.add_parser(
        "tasks", help="list the tasks of a benchmark", description="List ruMTEB's tasks."
    )
    tasks.add_argument(
        "-b", "--benchmark", default="ruMTEB", help="ruMTEB (default), ruMTEB(v1) or ruMTEB(v1.1)"
    )
    tasks.add_argument("--all", action="store_true", help="every task rumteb defines (v1 and v1.1)")
    tasks.add_argument(
        "--format", choices=["md", "csv", "json"], default="md", help="output format (default md)"
    )
    tasks.set_defaults(handler=_cmd_tasks)

    data = commands.add_parser(
        "data",
        help="pull and verify offline copies of the datasets",
        description="Offline mirrors of the pinned Hub datasets: pull once with Hub access, verify, run anywhere "
        "with --data-dir DIR or RUMTEB_DATA_DIR=DIR.",
    )
    data_commands = data.add_subparsers(dest="data_command", metavar="ACTION")
    data_commands.required = True
    pull = data_commands.add_parser(
        "pull",
        help="download the pinned datasets and write manifests",
        description="Download each task's dataset at its pinned revision into DIR/<org>/<name>/ and write a "
        "manifest (revision, size and sha256 of every file). Needs Hub access.",
    )
    which = pull.add_mutually_exclusive_group()
    which.add_argument("-b", "--benchmark", default=None, help="all tasks of a benchmark (default: ruMTEB)")
    which.add_argument("-t", "--tasks", nargs="+", metavar="TASK", help="only these tasks")
    pull.add_argument(
        "--to", required=True, type=Path, metavar="DIR", help="the mirror folder (created if missing)"
    )
    pull.set_defaults(handler=_cmd_data_pull)
    check = data_commands.add_parser(
        "verify",
        help="recompute checksums of a mirror",
        description="Recompute the sha256 of every file under DIR and compare with the manifests. Exits 1 naming "
        "every missing, changed or unexpected file.",
    )
    check.add_argument("dir", type=Path, metavar="DIR", help="the mirror folder")
    check.set_defaults(handler=_cmd_data_verify)
    return parser


def _add_run_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    run = commands.add_parser(
        "run",
        help="evaluate a model on ruMTEB",
        description="Evaluate a model on a ruMTEB benchmark or on chosen tasks through mteb. Results go to "
        "OUTPUT_FOLDER/results/<org__model>/<revision>/<Task>.json in mteb's layout, one file as each task ends.",
    )
    run.add_argument(
        "-m",
        "--model",
        required=True,
        help="a local sentence-transformers or transformers folder, a model name in mteb's registry, or a Hub id",
    )
    which = run.add_mutually_exclusive_group()
    which.add_argument("-b", "--benchmark", default=None, help="ruMTEB (default), ruMTEB(v1) or ruMTEB(v1.1)")
    which.add_argument("-t", "--tasks", nargs="+", metavar="TASK", help="only these tasks (mteb's names)")
    run.add_argument(
        "--data-dir", type=Path, default=None, help="offline mirror (default: $RUMTEB_DATA_DIR, else Hub)"
    )
    run.add_argument(
        "--output-folder", type=Path, default=Path("results"), help="where results go (default: results)"
    )
    run.add_argument(
        "--batch-size",
        type=int,
        default=32,
        help="texts per encode batch of the sentence-transformers encoder (default 32, as mteb); rumteb's "
        "encoder cuts batches by tokens instead (--max-tokens-per-batch)",
    )
    run.add_argument(
        "--device",
        default=None,
        help="cpu, cuda (rumteb's encoder: every visible GPU), cuda:N, a GPU index N, or a comma-separated list "
        "such as cuda:0,cuda:1 (rumteb's encoder: one worker process each). Default: cuda if available",
    )
    run.add_argument(
        "--encoder",
        choices=["auto", "sentence-transformers", "rumteb"],
        default="auto",
        help="auto (default): rumteb's fast encoder for the models rumteb registers and for local folders it can "
        "run (sentence-transformers folders; transformers folders with --pooling), else exactly what "
        "mteb.evaluate runs; sentence-transformers: always mteb's path (fp32, bit-equal to mteb)",
    )
    fast = run.add_argument_group(
        "rumteb's encoder", "settings of --encoder rumteb (and of auto when it picks it)"
    )
    fast.add_argument(
        "--precision",
        choices=["auto", "fp32", "bf16", "fp16"],
        default="auto",
        help="compute precision; auto (default) = bf16 on CUDA and on CPUs with bf16 matrix units (AMX), else "
        "fp32. Pooling and normalisation run in fp32",
    )
    fast.add_argument(
        "--max-tokens-per-batch",
        type=int,
        default=None,
        metavar="N",
        help="token budget of a batch (rows x longest row; default 8192 on CPU, 65536 on CUDA, halved on CUDA "
        "out-of-memory)",
    )
    fast.add_argument(
        "--cache-dir",
        type=Path,
        default=None,
        metavar="DIR",
        help="keep embeddings here (keyed by model content, precision, pooling, max length, prompt and text): a "
        "re-run, or another task with the same texts, encodes nothing again",
    )
    fast.add_argument(
        "--max-memory",
        default=None,
        metavar="SIZE",
        help="host memory budget of a retrieval corpus chunk (4GiB, 512MiB, ...): the corpus streams through in "
        "chunks of this size, scored against every query and merged into each query's top-k, so memory does not "
        "grow with the corpus (default: a quarter of the free memory, at most 512MiB; not capped with --engine ray, "
        "where each chunk is one Ray job that starts its actors)",
    )
    fast.add_argument(
        "--engine",
        choices=["local", "ray"],
        default="local",
        help="local (default): this process, one worker process per device; ray: encode as a Ray Data job on an "
        "actor pool (one actor per GPU of the cluster with --device cuda, one per entry of a --device list such "
        'as cpu,cpu); needs pip install "rumteb[ray]"',
    )
    fast.add_argument(
        "--ray-address",
        default=None,
        metavar="ADDR",
        help="the Ray cluster to join with --engine ray (auto, host:6379, ray://host:10001); default: "
        "$RAY_ADDRESS, else a new local cluster",
    )
    fast.add_argument(
        "--pooling",
        choices=["cls", "mean", "max", "lasttoken"],
        default=None,
        help="pooling for a plain transformers folder (default: the sentence-transformers config)",
    )
    run.add_argument(
        "--trust-remote-code",
        action="store_true",
        help="allow custom model code shipped with the model (off unless given)",
    )
    run.add_argument(
        "--allow-pickle",
        action="store_true",
        help="load weights stored only as pickle files (pytorch_model.bin, *.pt, *.ckpt), which can run code "
        "when loaded (off: such a model is refused; safetensors are always fine)",
    )
    run.add_argument("--model-revision", default=None, help="revision of a Hub model")
    run.add_argument(
        "--overwrite-strategy",
        choices=["always", "never", "only-missing", "only-cache"],
        default="only-missing",
        help="mteb's meaning: reuse stored results (only-missing, default), rerun (always), ...",
    )
    prompts = run.add_mutually_exclusive_group()
    prompts.add_argument(
        "--prompts",
        type=Path,
        metavar="FILE.json",
        help="prompts in mteb's key format: {task name | task type | query | document | Task-query: prompt}",
    )
    prompts.add_argument(
        "--no-prompts", action="store_true", help="encode without any prompt (prefix ablation)"
    )
    run.add_argument(
        "--prediction-folder", type=Path, default=None, help="also save per-example predictions here"
    )
    run.add_argument(
        "--evaluator-threads",
        type=int,
        default=1,
        metavar="N",
        help="threads of the evaluators' BLAS and OpenMP pools (scikit-learn, numpy, scipy) while torch keeps "
        "its own (default 1: the pools do not oversubscribe the cores; 0 leaves them as they are)",
    )
    run.set_defaults(handler=_cmd_run)


def _cmd_run(args: argparse.Namespace) -> int:
    import rumteb
    from rumteb.runner import parse_device, read_prompts

    if args.batch_size < 1:
        raise ValueError(f"The '--batch-size' option must be a positive int. Got {args.batch_size} instead.")
    if args.max_tokens_per_batch is not None and args.max_tokens_per_batch < 1:
        raise ValueError(
            f"The '--max-tokens-per-batch' option must be a positive int. Got {args.max_tokens_per_batch} instead."
        )
    device = parse_device(args.device)
    if args.max_memory is not None:
        from rumteb.models._memory import parse_size

        parse_size(args.max_memory)  # a bad size fails before anything loads
    if args.ray_address is not None and args.engine != "ray":
        raise ValueError(
            f"The '--ray-address' option applies to --engine ray only. Got {args.ray_address!r} with --engine "
            f"{args.engine}; add --engine ray or drop --ray-address."
        )
    from rumteb._result_store import check_output_folder

    check_output_folder(args.output_folder)  # before loading anything: fail in seconds, not after the model
    if args.tasks:
        tasks = rumteb.get_tasks(args.tasks, data_dir=args.data_dir)
    else:
        tasks = rumteb.get_tasks(benchmark=args.benchmark or "ruMTEB", data_dir=args.data_dir)
    prompts = read_prompts(args.prompts) if args.prompts else None
    from rumteb._console import evaluator_threads, quiet

    if args.evaluator_threads < 0:
        raise ValueError(
            f"The '--evaluator-threads' option must be 0 or a positive int. Got {args.evaluator_threads} instead."
        )
    with quiet(args.verbose), evaluator_threads(args.evaluator_threads):
        return _run_quietly(args, tasks, device, prompts)


def _run_quietly(
    args: argparse.Namespace, tasks: list[Any], device: Any, prompts: dict[str, str] | None
) -> int:
    from functools import partial

    from rumteb._console import check_data_sources
    from rumteb.runner import TaskOutcome, load_model, run_tasks

    # every task's data is checked once the arguments are, before the model loads: fail in seconds
    model = load_model(
        args.model,
        before_loading=partial(check_data_sources, tasks),
        device=device,
        encoder=args.encoder,
        prompts=prompts,
        no_prompts=args.no_prompts,
        revision=args.model_revision,
        precision=args.precision,
        cache_dir=args.cache_dir,
        max_tokens_per_batch=args.max_tokens_per_batch,
        pooling=args.pooling,
        trust_remote_code=args.trust_remote_code,
        allow_pickle=args.allow_pickle,
        max_memory=args.max_memory,
        engine=args.engine,
        ray_address=args.ray_address,
    )
    meta = model.mteb_model_meta
    sys.stderr.write(
        f"Evaluating {meta.name} (revision {meta.revision}) on {len(tasks)} tasks with {_describe(model)}\n"
    )
    width = max(len(t.metadata.name) for t in tasks)
    done = 0

    # One line per finished task with its main score and time; on a terminal, a progress bar per encode call.
    def report(outcome: TaskOutcome) -> None:
        nonlocal done
        done += 1
        line = (
            f"  [{done}/{len(tasks)}] {outcome.task:<{width}}  {outcome.main_score_name} = {outcome.score:.4f}  "
            f"({outcome.seconds:.1f} s)"
        )
        if outcome.rerun_reason:
            line += f"  [re-run: the stored result did not match: {outcome.rerun_reason}]"
        sys.stderr.write(line + "\n")

    try:
        outcomes = run_tasks(
            model,
            tasks,
            output_folder=args.output_folder,
            overwrite_strategy=args.overwrite_strategy,
            batch_size=args.batch_size,
            prediction_folder=args.prediction_folder,
            on_task_done=report,
            show_progress_bar=sys.stderr.isatty(),
        )
    finally:
        if callable(getattr(model, "close", None)):
            model.close()  # rumteb's encoder: stop its worker processes
    stats = getattr(model, "stats", None)
    if isinstance(stats, dict):
        sys.stderr.write(
            f"Encoded {stats.get('encoded', 0)} texts; reused {stats.get('memory_hits', 0)} from this run and "
            f"{stats.get('disk_hits', 0)} from --cache-dir\n"
        )
    folder = args.output_folder / "results" / meta.name.replace("/", "__") / str(meta.revision)
    sys.stdout.write(f"{len(outcomes)} task results in {folder}\n\n")
    _write_summary(args.output_folder, meta.name, args.benchmark or "ruMTEB")
    return 0


def _describe(model: object) -> str:
    from rumteb.models.encoder import Encoder

    if isinstance(model, Encoder):
        where = ", ".join(model.devices) + (" through Ray" if model.engine == "ray" else "")
        return f"rumteb's encoder ({model.precision} on {where})"
    if type(model).__name__ == "SentenceTransformerEncoderWrapper":
        return "sentence-transformers (fp32, as mteb)"
    return type(model).__name__


def _write_summary(output_folder: Path, model_name: str, benchmark: str) -> None:
    """The leaderboard row of the model just run (n/a where the benchmark's tasks are missing)."""
    from rumteb import results

    models = [m for m in results.load_results([output_folder]) if m.model == model_name]
    rows = results.summary_table(models, benchmark)
    sys.stdout.write(results.format_table(rows, "md", notes=results.table_notes(models, benchmark)))


def _add_table_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    table = commands.add_parser(
        "table",
        help="leaderboard table of results on ruMTEB",
        description="One row per model found under the result folders (mteb's layout): the 7 task-type means, "
        "Mean(Task) and Mean(TaskType), x100. A model missing tasks shows n/a where they count, with a note.",
    )
    table.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="result folders (mteb layout)")
    table.add_argument(
        "-b", "--benchmark", default="ruMTEB", help="ruMTEB (default), ruMTEB(v1) or ruMTEB(v1.1)"
    )
    table.add_argument("--format", choices=["md", "csv", "json", "latex"], default="md", help="default md")
    table.add_argument("--skip-invalid", action="store_true", help="skip unreadable result files (reported)")
    table.add_argument(
        "--columns",
        default="",
        metavar="GROUPS",
        help="add column groups, comma-separated: size (Params(M), Dim: from rumteb run, model_meta.json or "
        "mteb's registry) and speed (Texts/s, Tokens/s, Device: measured by rumteb run while encoding; compare "
        "only runs on the same hardware)",
    )
    table.set_defaults(handler=_cmd_table)


def _cmd_table(args: argparse.Namespace) -> int:
    from rumteb import costs, results

    groups = costs.parse_columns(args.columns)
    models = results.load_results(args.paths, errors="skip" if args.skip_invalid else "raise")
    rows = results.summary_table(models, args.benchmark)
    for row, model in zip(rows, models, strict=True):
        row.update(costs.cost_columns(costs.model_costs(model), groups) if groups else {})
    notes = results.table_notes(models, args.benchmark)
    if "speed" in groups:
        notes.append(
            "Texts/s, Tokens/s: measured by rumteb run while encoding, on the Device shown (n/a: not run by "
            "rumteb run); compare speeds measured on one machine only."
        )
    embed = args.format in ("md", "latex")
    sys.stdout.write(results.format_table(rows, args.format, notes=notes if embed else ()))
    if not embed:
        for note in notes:
            sys.stderr.write(f"note: {note}\n")
    return 0


def _add_mteb_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    passthrough = commands.add_parser(
        "mteb",
        add_help=False,
        help="mteb's own command line, with rumteb's benchmarks registered",
        description="Run mteb's command line with rumteb.register() applied, e.g. 'rumteb mteb run -b ruMTEB -m "
        "MODEL'. All arguments are mteb's (see 'rumteb mteb --help').",
    )
    passthrough.add_argument("mteb_args", nargs=argparse.REMAINDER, help="arguments for mteb's command line")
    passthrough.set_defaults(handler=_cmd_mteb)


def _cmd_mteb(args: argparse.Namespace) -> int:
    import rumteb

    try:
        from mteb.cli.build_cli import build_cli
    except ImportError as err:
        raise RuntimeError(f"This mteb has no command line module mteb.cli.build_cli ({err}).") from err
    rumteb.register()
    parser = build_cli()
    parser.prog = "rumteb mteb"
    namespace = parser.parse_args(args.mteb_args)
    if not hasattr(namespace, "func"):
        parser.print_help(sys.stderr)
        return 2
    namespace.func(namespace)
    return 0


def _cmd_tasks(args: argparse.Namespace) -> int:
    import json

    import rumteb
    from rumteb.tasks import TASKS_BY_NAME

    tasks = (
        [rumteb.get_task(n) for n in TASKS_BY_NAME]
        if args.all
        else rumteb.get_tasks(benchmark=args.benchmark)
    )
    rows = [
        {
            "name": t.metadata.name,
            "type": t.metadata.type,
            "dataset": t.metadata.dataset["path"],
            "revision": t.metadata.dataset["revision"][:10],
            "eval_splits": ",".join(t.eval_splits),
            "subsets": ",".join(t.hf_subsets),
            "main_score": t.metadata.main_score,
            "license": t.metadata.license or "",
        }
        for t in tasks
    ]
    if args.format == "json":
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
    elif args.format == "csv":
        import csv

        writer = csv.DictWriter(sys.stdout, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    else:
        header = list(rows[0])
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(str(r[h]) for h in header) + " |" for r in rows]
        sys.stdout.write("\n".join(lines) + "\n")
    return 0


def _cmd_data_pull(args: argparse.Namespace) -> int:
    import rumteb
    from rumteb import data

    if args.tasks:
        tasks = rumteb.get_tasks(args.tasks)
    else:
        tasks = rumteb.get_tasks(benchmark=args.benchmark or "ruMTEB")
    manifests = data.pull(tasks, args.to)
    for manifest in manifests:
        size = sum(entry.size for entry in manifest.files.values())
        sys.stdout.write(
            f"{manifest.repo_id}@{manifest.revision[:10]}: {len(manifest.files)} files, {size / 1e6:.1f} MB "
            f"({', '.join(manifest.tasks)})\n"
        )
    sys.stdout.write(f"Pulled {len(manifests)} datasets into {args.to}. Use it with --data-dir {args.to}\n")
    return 0


def _cmd_data_verify(args: argparse.Namespace) -> int:
    from rumteb import data

    report = data.verify(args.dir)
    for problem in report.problems:
        sys.stdout.write(f"PROBLEM {problem}\n")
    for repo_id in report.unverified:
        sys.stdout.write(f"UNVERIFIED {repo_id} (no manifest: made by hand?)\n")
    status = "OK" if report.ok else "FAILED"
    sys.stdout.write(
        f"{status}: {len(report.checked)} datasets checked, {len(report.problems)} problems, "
        f"{len(report.unverified)} without a manifest\n"
    )
    return 0 if report.ok else 1


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (errors are printed to stderr, status 1 or 2)."""
    parser = build_parser()
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:1] == ["mteb"]:  # everything after it is mteb's, --help included
        args = argparse.Namespace(handler=_cmd_mteb, mteb_args=arguments[1:], verbose=0)
    else:
        args = parser.parse_args(arguments)
    level = logging.WARNING - 10 * min(args.verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    from rumteb.data import DataError

    try:
        return int(args.handler(args))
    except (LookupError, DataError, ValueError, OSError) as err:
        message = err.args[0] if isinstance(err, KeyError) and err.args else err
        if isinstance(err, OSError) and type(err).__name__ == "ResultWriteError":
            message = err.strerror  # names the folder already; the errno prefix adds nothing
        if (
            args.verbose
        ):  # -v: the traceback, with the chained cause (the datasets or pyarrow error behind it)
            import traceback

            traceback.print_exc(file=sys.stderr)
        sys.stderr.write(f"rumteb: error: {message}\n")
        return 1
    except KeyboardInterrupt:
        sys.stderr.write("rumteb: interrupted\n")
        return 130


if __name__ == "__main__":
    sys.exit(main())
