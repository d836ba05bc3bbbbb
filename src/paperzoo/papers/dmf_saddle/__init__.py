"""Deep matrix factorization and its saddle-point-escaping stages (Cao et al., arXiv 2212.14150).

Gradient descent on W = W_N ⋯ W_1 from a small init learns a rank-R target in R stages, each escaping
a saddle (a rank-k critical point) and adding one rank, and ends at a second-order critical point.

    from paperzoo.papers.dmf_saddle import (low_rank_matrix, observation_mask,
        DeepMatrixFactorization, train_dmf, detect_stages, second_order_check)
    M = low_rank_matrix(20, [10, 6, 3], seed=0)
    dmf = DeepMatrixFactorization(M.shape, depth=3, init_scale=1e-3, seed=0)
    hist = train_dmf(dmf, M, observation_mask(M.shape), lr=0.01, steps=30_000)
    print(detect_stages(hist), second_order_check(dmf, M))
"""

import lazy_loader as lazy

__getattr__, __dir__, __all__ = lazy.attach(__name__, submod_attrs={
    "matrices": ["low_rank_matrix", "observation_mask", "truncated_svd"],
    "training": ["DeepMatrixFactorization", "train_dmf", "History", "DivergenceError", "dmf_loss",
                 "factor_gradients"],
    "stages": ["detect_stages", "Stage", "Plateau", "find_plateaus", "effective_rank", "check_clean"],
    "certificates": ["second_order_check", "Certificate", "DMFHessian"],
    "baselines": ["glrl", "GLRLResult", "nuclear_norm_completion"],
})
