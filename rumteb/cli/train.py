"""``rumteb train``: the recipe's contrastive training from a YAML config (`rumteb.recipe.training`)."""

from __future__ import annotations

import argparse
import sys

from rumteb.cli._errors import CommandError
from rumteb.recipe.config import resolve_config

_TRAIN_EPILOG = """\
examples:
  rumteb data pull --config ru-en-rosberta --to ~/train-data   # the paper's Hub sources, pinned in a lock file
  rumteb train --dump-config ru-en-rosberta > my.yaml   # map the 'columns: unknown' sources, set data_dir
  rumteb train ru-en-rosberta-local                 # offline stand-ins from ../shared/data (tests, benchmarks)
  rumteb train my.yaml --set output_dir=out/run1 --set max_steps=100
  rumteb train my.yaml --set save_steps=500 --resume        # continue after a crash or preemption
  torchrun --nproc_per_node 8 -m rumteb.cli train my.yaml     # DDP on 8 GPUs (or: accelerate launch -m rumteb.cli)
"""


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "train",
        help="contrastive training from a YAML config (needs rumteb[train])",
        description="Contrastive (InfoNCE) training of a sentence-transformers model from a YAML config: "
        "CachedMultipleNegativesRankingLoss with scale = 1/temperature, every batch from one dataset without "
        "duplicate texts, prompts per column role saved with the model. The resolved config is written beside "
        "the checkpoints, with the commit of every Hub source (a 'revision: pin-at-pull' takes the commit of "
        "DATA_DIR/<config name>.lock.yaml written by 'rumteb data pull --config'). Multi-GPU: launch it with torchrun --nproc_per_node N (or accelerate launch); negatives are then "
        "gathered across processes and every global step draws all its batches from one dataset. Checkpoints every "
        "save_steps steps; --resume continues from the newest.",
        epilog=_TRAIN_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "config",
        nargs="?",
        metavar="CONFIG",
        help="a YAML config file, or the name of a config shipped with rumteb (ru-en-rosberta, "
        "ru-en-rosberta-local)",
    )
    parser.add_argument(
        "--dump-config",
        metavar="NAME",
        default=None,
        help="print a shipped config (e.g. ru-en-rosberta) to stdout, to copy and edit, and exit",
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        dest="overrides",
        help="override a top-level config key (value parsed as YAML); repeatable",
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help="continue from the newest checkpoint-<step> in output_dir (written when save_steps > 0); "
        "starts from scratch when there is none. Same as --set resume=true",
    )
    parser.add_argument(
        "--exclude-contaminated",
        action="store_true",
        help="drop every example with a text found in ruMTEB's evaluation splits (see 'rumteb contamination'; "
        "data from $RUMTEB_DATA_DIR, else the Hub) and record the counts in OUTPUT_DIR/contamination.json. "
        "Same as --set exclude_contaminated=true; a mapping in the config sets benchmark, data_dir, threshold",
    )
    parser.set_defaults(handler=_cmd_train)


def _cmd_train(args: argparse.Namespace) -> int:
    if args.dump_config is not None:
        sys.stdout.write(resolve_config(args.dump_config).read_text(encoding="utf-8"))
        return 0
    if args.config is None:
        raise CommandError(
            "rumteb train needs a CONFIG (a YAML file or a shipped name such as ru-en-rosberta)."
        )
    from rumteb.recipe.config import load_config
    from rumteb.recipe.lock import apply_lock, config_name
    from rumteb.recipe.training import train

    overrides = [*args.overrides, *(["resume=true"] if args.resume else [])]
    if args.exclude_contaminated and not any(o.startswith("exclude_contaminated=") for o in overrides):
        overrides.append("exclude_contaminated=true")
    path = resolve_config(args.config)
    # pin-at-pull sources take the commits of DATA_DIR/<config name>.lock.yaml ('rumteb data pull --config')
    config = apply_lock(load_config(path, overrides=overrides), config_name(path))
    result = train(config)
    for name, commit in result.commits.items():
        sys.stdout.write(f"trained on {name}: {commit}\n")
    for name, count in result.excluded.items():
        sys.stdout.write(f"excluded {count} contaminated examples of {name}\n")
    sys.stdout.write(f"saved the trained model to {result.model_dir}\n")
    return 0
