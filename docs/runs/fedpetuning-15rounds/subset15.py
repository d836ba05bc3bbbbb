"""Documented subset: quick's setting with 15 rounds instead of 5, alpha 1.0, seed 0, the 6 methods."""
import json, os, sys, time
from dataclasses import replace
from paperzoo.papers.fedpetuning.experiment import PRESETS, VARIANTS, _settings
from paperzoo.federated import InProcessGrid
from paperzoo.papers.fedpetuning.federation import client_app, run_on_grid
from paperzoo.papers.fedpetuning.pet import PETConfig

config = {**PRESETS["quick"], "rounds": 15}
runs = [(PETConfig(**VARIANTS[n]), replace(_settings(config, 1.0, 0), lr=config["lr"][VARIANTS[n]["method"]]))
        for n in config["methods"]]
load0, t = os.getloadavg(), time.time()
res = run_on_grid(InProcessGrid(client_app, 10, node_config=lambda pid: {"torch-threads": 2}), runs)
out = {"config": {k: v for k, v in config.items() if k != "seeds"}, "alpha": 1.0, "seed": 0,
       "seconds": time.time() - t, "load_start": load0, "load_end": os.getloadavg(),
       "engine": "inprocess", "runs": [r.to_dict() for r in res]}
json.dump(out, open(sys.argv[1], "w"), indent=1)
for r in res:
    print(r.method, "best round", r.best_round, "valid", round(r.best_valid_accuracy, 3), "test", round(r.best_test_accuracy, 3))
