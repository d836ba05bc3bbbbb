"""Neural collapse as a transfer-learning signal, and SCL fine-tuning (Li et al., arXiv 2212.12206).

NC metrics (NC1/NC2/NC3) for any features, features from any layer via forward hooks, layer-wise
NC1, a scikit-learn linear probe, and fine-tuning variants: linear probe, one block (Layer-FT),
full, and skip-connection layer fine-tuning (SCL-FT).

Example:
    from paperzoo.papers.neural_collapse import nc_metrics, collect_features, linear_probe, SCLFineTune, fine_tune
    H = collect_features(backbone, X_train)                    # penultimate features, frozen model
    print(nc_metrics(H, y_train)["nc1"])                       # smaller = more collapse
    acc = linear_probe(H, y_train, collect_features(backbone, X_test), y_test)
    model = fine_tune(SCLFineTune(backbone, tune="block2", num_classes=5), X_train, y_train, epochs=50, lr=1e-3, seed=0)
"""

import lazy_loader as lazy

__getattr__, __dir__, __all__ = lazy.attach(__name__, submod_attrs={
    "metrics": ["nc_metrics", "simplex_etf", "RCOND"],
    "features": ["collect_features", "layerwise_nc1", "linear_probe"],
    "finetune": ["LayerFineTune", "SCLFineTune", "fine_tune"],
    "backbones": ["MLP", "CNN1D"],
})
