"""The offline MiniLM loader: local weights, truncated depth, a clear error for a bad depth."""

import pytest
import torch

from paperzoo.data.minilm import load_minilm, minilm_tokenizer


def test_loads_offline_with_the_first_layers_only():
    from transformers import AutoModel

    encoder = load_minilm(AutoModel, num_layers=2)
    assert len(encoder.encoder.layer) == 2 and encoder.config.hidden_size == 384
    batch = minilm_tokenizer()(["Alice flew to Paris"], return_tensors="pt")
    with torch.no_grad():
        hidden = encoder(**batch).last_hidden_state
    assert hidden.shape == (1, batch["input_ids"].shape[1], 384) and torch.isfinite(hidden).all()


@pytest.mark.parametrize("bad", [0, -1, 2.0, True])
def test_bad_depth_names_the_argument(bad):
    with pytest.raises(ValueError, match="num_layers"):
        load_minilm(object, num_layers=bad)
