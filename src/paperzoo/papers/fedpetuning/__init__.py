"""FedPETuning: federated parameter-efficient tuning of a pre-trained language model on Flower.

Full fine-tuning, LoRA (peft), bottleneck adapters, deep prefix tuning, BitFit and a head-only control
on all-MiniLM-L6-v2 with a mean-pooling classification head (the pooling the encoder was trained with),
trained with FedAvg over label-skewed clients (FedNLP partition) in a Flower simulation; only the
trainable tensors travel and the bytes are measured from the messages.

Example:
    >>> from paperzoo.papers.fedpetuning import PETConfig, build_model, trainable_state_dict, run_federated
    >>> cfg = PETConfig(method="lora", rank=8)
    >>> model = build_model(cfg, num_labels=4)
    >>> sum(t.numel() for t in trainable_state_dict(model).values())
    223108
    >>> res = run_federated(cfg, alpha=1.0, rounds=5, num_clients=10, seed=0, num_layers=2)
    >>> res.best_test_accuracy, res.bytes_per_round[0]    # bytes measured with ArrayRecord.count_bytes()
"""

import lazy_loader as lazy

__getattr__, __dir__, __all__ = lazy.attach(__name__, submod_attrs={
    "pet": ["PETConfig", "build_model", "trainable_state_dict", "load_trainable_state_dict", "BottleneckAdapter",
            "add_adapters", "add_prefix", "apply_bitfit", "count_trainable", "PrefixSelfAttention", "METHODS", "HEADS",
            "MeanPoolingClassifier", "MeanPoolingHead", "mean_pool"],
    "reference": ["REFERENCE_LR", "QUICK_LR", "PAPER_PARAM_RATIO"],
    # ByteCountingFedAvg is paperzoo.federated's, re-exported here as part of this paper's API
    "federation": ["client_app", "server_app", "ByteCountingFedAvg", "FedSettings", "FedResult", "run_federated",
                   "run_many", "run_on_grid", "DEFAULT_LR"],
    "textdata": ["load_task", "split_indices", "Task"],
    "training": ["train_local", "evaluate"],
})
