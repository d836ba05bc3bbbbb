"""Feature hooks, linear probe, and the fine-tuning variants (frozen means frozen)."""

import numpy as np
import pytest
import torch

from paperzoo.papers.neural_collapse import (
    CNN1D,
    MLP,
    LayerFineTune,
    SCLFineTune,
    collect_features,
    fine_tune,
    layerwise_nc1,
    linear_probe,
    nc_metrics,
)


@pytest.fixture
def cnn():
    torch.manual_seed(0)
    net = CNN1D(num_classes=5)
    # Non-trivial BatchNorm statistics, as after pre-training.
    net.train()
    with torch.no_grad():
        net(torch.randn(64, 40) * 2 + 1)
    return net.eval()


def toy_task(n=60, seed=0):
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % 5
    X = torch.randn(n, 40, generator=g) + y[:, None].float() * torch.linspace(-1, 1, 40)
    return X, y


def test_collect_features_matches_manual_forward(cnn):
    X, _ = toy_task(10)
    with torch.no_grad():
        b2 = cnn.block2(cnn.block1(X.unsqueeze(1)))
        pen = cnn.flatten(cnn.pool(cnn.block4(cnn.block3(b2))))
    assert torch.allclose(collect_features(cnn, X), pen, atol=1e-6)
    assert torch.allclose(collect_features(cnn, X, layer="block2"), b2.mean(dim=2), atol=1e-6)
    assert torch.allclose(collect_features(cnn, X, layer="block2", pool="max"), b2.amax(dim=2), atol=1e-6)
    assert collect_features(cnn, X, layer="block2", pool="flatten").shape == (10, 64 * 20)


def test_collect_features_restores_mode_and_removes_hooks(cnn):
    cnn.train()
    collect_features(cnn, torch.randn(4, 40), layer="block3")
    assert cnn.training
    assert all(not m._forward_hooks and not m._forward_pre_hooks for m in cnn.modules())


def test_unknown_layer_is_named(cnn):
    with pytest.raises(ValueError, match="block9"):
        collect_features(cnn, torch.randn(4, 40), layer="block9")


def test_layerwise_nc1_agrees_with_nc_metrics(cnn):
    X, y = toy_task(40)
    profile = layerwise_nc1(cnn, X, y, ["block1", "block4"])
    assert profile["block4"] == pytest.approx(nc_metrics(collect_features(cnn, X, "block4"), y)["nc1"])
    assert set(profile) == {"block1", "block4"}


def test_linear_probe_separable_and_errors():
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(3), 30)
    H = rng.normal(size=(90, 5)) * 0.1 + np.eye(3, 5)[y] * 1000  # large scale: standardisation needed
    assert linear_probe(H[::2], y[::2], H[1::2], y[1::2]) == 1.0
    with pytest.raises(ValueError, match="mismatched lengths"):
        linear_probe(H, y[:-1], H, y)
    with pytest.raises(ValueError, match="at least 2 classes"):
        linear_probe(H, np.zeros(90), H, y)


def test_scl_trainable_fraction_on_reference_backbone(cnn):
    assert SCLFineTune(cnn, tune="block2", num_classes=5).trainable_fraction() <= 0.10
    assert LayerFineTune(cnn, "all", 5).trainable_fraction() == 1.0
    lp = LayerFineTune(cnn, None, 5)
    assert lp.trainable_fraction() == pytest.approx(645 / lp.full_ft_parameters())


def test_add_fusion_starts_as_the_linear_probe_model(cnn):
    torch.manual_seed(1)
    lp = LayerFineTune(cnn, None, 5)
    torch.manual_seed(1)
    scl = SCLFineTune(cnn, tune="block2", num_classes=5, fuse="add")
    X = torch.randn(8, 40)
    assert torch.allclose(scl.eval()(X), lp.eval()(X), atol=1e-6)


@pytest.mark.parametrize("make", [
    lambda b: LayerFineTune(b, "block2", 5),
    lambda b: SCLFineTune(b, "block2", 5, fuse="concat"),
    lambda b: LayerFineTune(b, None, 5),
])
def test_frozen_parameters_and_batchnorm_buffers_unchanged(cnn, make):
    before = {k: v.clone() for k, v in cnn.state_dict().items()}
    X, y = toy_task(40)
    model = fine_tune(make(cnn), X, y, epochs=2, lr=1e-2, seed=0, batch_size=8)
    tuned = tuple(f"{name}." for name in model.tuned_names)
    after = model.body.state_dict()
    changed = []
    for key, value in before.items():
        if key.startswith("head."):
            continue
        if key.startswith(tuned):
            changed.append(not torch.equal(after[key], value))
        else:  # frozen: parameters, running means/vars and num_batches_tracked identical
            assert torch.equal(after[key], value), key
    assert any(changed) == bool(tuned)  # the tuned block did move
    for key, value in cnn.state_dict().items():  # the pre-trained backbone itself is untouched
        assert torch.equal(value, before[key]), key


def test_full_fine_tuning_updates_batchnorm(cnn):
    X, y = toy_task(40)
    model = fine_tune(LayerFineTune(cnn, "all", 5), X, y, epochs=1, lr=1e-3, seed=0, batch_size=8)
    assert not torch.equal(model.body.block1[1].running_mean, cnn.block1[1].running_mean)


def test_fine_tune_is_deterministic_and_learns():
    X, y = toy_task(100)
    models = []
    for _ in range(2):
        torch.manual_seed(0)
        models.append(fine_tune(MLP(40, 32, 5), X, y, epochs=30, lr=1e-2, seed=3))
    assert torch.equal(models[0].head.weight, models[1].head.weight)
    assert (models[0](X).argmax(1) == y).float().mean() > 0.9


@pytest.mark.parametrize("tune", ["block9", "head", ""])
def test_missing_tune_block_is_named(cnn, tune):
    with pytest.raises(ValueError, match="not a block"):
        SCLFineTune(cnn, tune=tune, num_classes=5)
    with pytest.raises(ValueError, match="not a block"):
        LayerFineTune(cnn, tune, 5)


def test_bad_fine_tune_input_is_named(cnn):
    model = LayerFineTune(cnn, None, 5)
    with pytest.raises(ValueError, match="mismatched lengths"):
        fine_tune(model, torch.randn(4, 40), torch.arange(3), epochs=1, lr=1e-3, seed=0)
    with pytest.raises(ValueError, match="fuse"):
        SCLFineTune(cnn, tune="block2", num_classes=5, fuse="mul")
