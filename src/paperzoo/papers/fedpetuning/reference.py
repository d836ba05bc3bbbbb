"""Settings taken from the FedPETuning reference code (SMILELab-FL/FedPETuning, configs/tuning.py).

`fed_best_hyperparameter` there holds the federated learning rate chosen per GLUE task and method from
the grid {5e-5, 1e-4, 5e-4, 1e-3, 5e-3, 1e-2}. REFERENCE_LR is its most frequent choice per method;
QUICK_LR its largest choice on any task (FT 1e-4 on CoLA; LoRA and BitFit 5e-3 on RTE/MRPC/CoLA), for
budgets far below its 100 rounds. The reference has no head-only method: it gets BitFit's rate (both
train little more than the head). Its configs unfreeze `classifier` (RoBERTa's dense + out_proj head)
for every PET method.

    >>> REFERENCE_LR["full"], QUICK_LR["lora"]
    (5e-05, 0.005)
"""

REFERENCE_LR = {"full": 5e-5, "lora": 1e-3, "adapter": 1e-3, "prefix": 1e-3, "bitfit": 1e-3, "head": 1e-3}
QUICK_LR = {"full": 1e-4, "lora": 5e-3, "adapter": 1e-3, "prefix": 1e-3, "bitfit": 5e-3, "head": 5e-3}

# Parameter reduction vs FT reported by the paper (RoBERTa-base, analytic), shown beside ours.
PAPER_PARAM_RATIO = {"lora": 140.0, "bitfit": 190.0, "adapter": 103.8, "prefix": 12.1}
