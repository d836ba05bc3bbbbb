"""FedMGD: a global conditional GAN trained through federated messages to fight label skew, on Flower.

The server's conditional generator G is trained against the clients' discriminators D_k and classifiers
C_k (which never leave the nodes): each generated sample is judged by the client with the highest
realistic score D_k(x̂) − CE(C_k(x̂), ŷ), through one `train.gan_step` message round trip per
iteration. Then FedAvg rounds, each followed by a server step on G's samples that the global model
already classifies as their label (screening).

Example:
    >>> from paperzoo.data.partition import dirichlet_label_skew          # doctest: +SKIP
    >>> from paperzoo.papers.fedmgd import FedMGD, FedAvgBaseline
    >>> parts = dirichlet_label_skew(y_train, n_clients=5, alpha=0.05, min_size=50, seed=0)
    >>> clients = [(x_train[i], y_train[i]) for i in parts]
    >>> mgd = FedMGD(gan_iters=800, rounds=30, seed=0).fit(clients)
    >>> avg = FedAvgBaseline(rounds=30, seed=0).fit(clients)
    >>> mgd.evaluate(x_test, y_test), avg.evaluate(x_test, y_test), mgd.bytes_
"""

import lazy_loader as lazy

__getattr__, __dir__, __all__ = lazy.attach(__name__, submod_attrs={
    "models": ["ConditionalGenerator", "Discriminator", "Classifier"],
    "gan": ["realistic_score", "client_gan_step", "generator_step", "screen", "r1_penalty", "judge_losses",
            "select_judges"],
    "methods": ["FedMGD", "FedAvgBaseline", "FedProxBaseline"],
    "federation": ["client_app", "server_app", "Settings", "run_gas", "run_fes", "run_method", "run_on_grid",
                   "ServerStep", "FedMGDAvg", "GAN_STEP"],
    "data": ["DataSpec", "federated_data", "register_clients"],
    "fidelity": ["train_oracle", "class_fidelity", "sample_grid"],
})
# dirichlet_label_skew lives in paperzoo.data.partition (shared by the federated papers)
