"""ruMTEB while a model trains: a sentence-transformers evaluator that runs ruMTEB tasks on the current weights.

Needs sentence-transformers (a dependency of rumteb) and the data of the tasks (``data_dir`` or
``$RUMTEB_DATA_DIR``, else the Hub). This package never imports rumteb's command line.
"""

from __future__ import annotations

from rumteb.evaluation.during_training import RuMTEBEvaluator

__all__ = ["RuMTEBEvaluator"]
