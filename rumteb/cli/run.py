"""``rumteb run``: evaluate a model on ruMTEB or on chosen tasks (`rumteb.evaluation`)."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from enum import StrEnum
from pathlib import Path
from typing import Any

from rumteb.cli._errors import CommandError
from rumteb.cli._options import OPTIONS, given_settings
from rumteb.errors import ParameterError
from rumteb.models.settings import (
    EncoderChoice,
    EncoderSettings,
    EndpointSettings,
    Engine,
    Pooling,
    Precision,
)


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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
        help="a local sentence-transformers or transformers folder, a model name in mteb's registry, or a Hub id; "
        "with --endpoint, the served model name",
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
        choices=_values(EncoderChoice),
        default=EncoderChoice.AUTO.value,
        help="auto (default): rumteb's fast encoder for the models rumteb registers and for local folders it can "
        "run (sentence-transformers folders; transformers folders with --pooling), else exactly what "
        "mteb.evaluate runs; sentence-transformers: always mteb's path (fp32, bit-equal to mteb)",
    )
    fast = run.add_argument_group(
        "rumteb's encoder", "settings of --encoder rumteb (and of auto when it picks it)"
    )
    fast.add_argument(
        "--precision",
        choices=_values(Precision),
        default=Precision.AUTO.value,
        help="compute precision; auto (default) = bf16 on CUDA and on CPUs with bf16 matrix units (AMX), else "
        "fp32. int8: CPU only, opt-in, dynamic int8 linear layers (faster, main scores within ~0.005 of fp32; not "
        "for leaderboard submissions). Pooling and normalisation run in fp32",
    )
    fast.add_argument(
        "--max-tokens-per-batch",
        type=int,
        default=None,
        metavar="N",
        help="token budget of a batch (rows x longest row; default 2048 on CPU, 65536 on CUDA, halved on CUDA "
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
        "grow with the corpus (default: a quarter of the free memory, at most 512MiB, with either engine)",
    )
    fast.add_argument(
        "--engine",
        choices=_values(Engine),
        default=Engine.LOCAL.value,
        help="local (default): this process, one worker process per device; ray: encode on Ray actors kept for the "
        "whole run (one actor per GPU of the cluster with --device cuda, one per entry of a --device list such "
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
        choices=_values(Pooling),
        default=None,
        help="pooling for a plain transformers folder (default: the sentence-transformers config)",
    )
    served = run.add_argument_group(
        "a served model",
        "evaluate a model behind an OpenAI-compatible /v1/embeddings server (vLLM, TEI, Infinity)",
    )
    served.add_argument(
        "--endpoint",
        default=None,
        metavar="URL",
        help="the server, such as http://localhost:8000: -m is then the served model name, results go under it "
        "(a name without / as served/NAME); --cache-dir, --model-revision and the prompts apply",
    )
    served.add_argument(
        "--api-key-env",
        default=None,
        metavar="VAR",
        help="environment variable holding the server's API key (sent as a Bearer token, never logged or written)",
    )
    served.add_argument(
        "--max-concurrency",
        type=int,
        default=None,
        metavar="N",
        help="requests in flight (default 4)",
    )
    served.add_argument(
        "--max-tokens-per-request",
        type=int,
        default=None,
        metavar="N",
        help="size budget of one request in characters of prompt + text (default 8192; a character is at most "
        "one token for the usual tokenizers)",
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
        "--training-datasets",
        nargs="+",
        default=[],
        metavar="TASK",
        help="the mteb tasks whose data trained the model (mteb's training_datasets; the leaderboard's Zero-shot "
        "is 100 - %% of the benchmark's tasks among them): task names, or a text file of names (whitespace-"
        "separated, # comments). Written into the results' model_meta.json; a folder saved by rumteb train adds "
        "its own record (train splits used, text overlap found)",
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


def _values(choices: type[StrEnum]) -> list[str]:
    return [choice.value for choice in choices]


def _cmd_run(args: argparse.Namespace) -> int:
    import rumteb
    from rumteb.models.prompts import read_prompts

    if args.batch_size < 1:
        raise ParameterError(
            f"The '--batch-size' option must be a positive int. Got {args.batch_size} instead."
        )
    if args.evaluator_threads < 0:
        raise ParameterError(
            f"The '--evaluator-threads' option must be 0 or a positive int. Got {args.evaluator_threads} instead."
        )
    settings = _settings(args)  # every model option is checked here, before anything loads
    from rumteb.evaluation.result_store import check_output_folder

    check_output_folder(args.output_folder)  # before loading anything: fail in seconds, not after the model
    if args.tasks:
        tasks = rumteb.get_tasks(args.tasks, data_dir=args.data_dir)
    else:
        tasks = rumteb.get_tasks(benchmark=args.benchmark or "ruMTEB", data_dir=args.data_dir)
    prompts = read_prompts(args.prompts) if args.prompts else ({} if args.no_prompts else None)
    from rumteb.evaluation.training_data import parse_training_datasets

    args.training_datasets = parse_training_datasets(args.training_datasets)  # before loading anything
    from rumteb.evaluation.console import evaluator_threads, quiet

    with quiet(args.verbose), evaluator_threads(args.evaluator_threads):
        return _run_quietly(args, tasks, settings, prompts)


def _settings(args: argparse.Namespace) -> EncoderSettings | EndpointSettings:
    """The model options as one settings object (which checks them); those of the other kind of model are refused."""
    local, served = given_settings(args, EncoderSettings), given_settings(args, EndpointSettings)
    if args.endpoint is not None:
        extra = ["--encoder"] if args.encoder != EncoderChoice.AUTO else []
        extra += [OPTIONS[name] for name in local if name not in _fields(EndpointSettings)]
        if extra:
            names = ", ".join(extra)
            raise CommandError(
                f"{names} {'is a setting' if len(extra) == 1 else 'are settings'} of the local encoders; with "
                f"--endpoint the server runs the model. Drop {names} (--max-tokens-per-request and "
                "--max-concurrency size the requests)."
            )
        return EndpointSettings(**served)
    extra = [OPTIONS[name] for name in served if name not in _fields(EncoderSettings)]
    if extra:
        names = ", ".join(extra)
        raise CommandError(
            f"{names} {'applies' if len(extra) == 1 else 'apply'} to a served model only. Add --endpoint URL or "
            f"drop {names}."
        )
    return EncoderSettings(**local)


def _fields(settings: type[EncoderSettings | EndpointSettings]) -> set[str]:
    return {field.name for field in dataclasses.fields(settings)}


def _run_quietly(
    args: argparse.Namespace,
    tasks: list[Any],
    settings: EncoderSettings | EndpointSettings,
    prompts: dict[str, str] | None,
) -> int:
    from functools import partial

    from rumteb.data.preflight import check_data_sources
    from rumteb.evaluation.loop import TaskOutcome, run_tasks
    from rumteb.evaluation.resolve import load_model

    # every task's data is checked once the arguments are, before the model loads: fail in seconds
    model = load_model(
        args.model,
        settings,
        encoder=args.encoder,
        revision=args.model_revision,
        prompts=prompts,
        before_loading=partial(check_data_sources, tasks),
    )
    from rumteb.evaluation.training_data import apply_training_datasets

    folder = Path(args.model).expanduser() if args.endpoint is None else None
    training = apply_training_datasets(model, args.training_datasets, folder)
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

    from rumteb.models.endpoint import EndpointError

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
            run_record={"training_datasets": training} if training else None,
        )
    except EndpointError as err:
        if args.cache_dir is not None:
            hint = (
                "Finished tasks are in the output folder and the embeddings that came back in --cache-dir: run "
                "the same command again to resume."
            )
        else:
            hint = (
                "Finished tasks are in the output folder; run the same command again to resume (add --cache-dir "
                "DIR to also keep the embeddings of the task that failed)."
            )
        raise CommandError(f"{err} {hint}") from err
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
    from rumteb.models.endpoint import EndpointEncoder

    if isinstance(model, EndpointEncoder):
        return f"the server at {model.display_url} ({model.max_concurrency} requests in flight)"
    if isinstance(model, Encoder):
        where = ", ".join(model.devices) + (" through Ray" if model.engine == "ray" else "")
        return f"rumteb's encoder ({model.precision} on {where})"
    if type(model).__name__ == "SentenceTransformerEncoderWrapper":
        return "sentence-transformers (fp32, as mteb)"
    return type(model).__name__


def _write_summary(output_folder: Path, model_name: str, benchmark: str) -> None:
    """The leaderboard row of the model just run (n/a where the benchmark's tasks are missing)."""
    from rumteb.reporting.leaderboard import summary_table, table_notes
    from rumteb.reporting.results import load_results
    from rumteb.reporting.table import format_table

    models = [m for m in load_results([output_folder]) if m.model == model_name]
    rows = summary_table(models, benchmark)
    sys.stdout.write(format_table(rows, "md", notes=table_notes(models, benchmark)))
