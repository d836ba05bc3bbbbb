"""One Flower simulation (Ray) with a custom action and FedAvg; the deployment's app folder."""

import tomllib

import numpy as np
import pytest
from flwr.app import ConfigRecord, Message, MessageType, RecordDict

from paperzoo.federated import (
    ByteCountingFedAvg,
    MeteredGrid,
    app_pyproject,
    array_record,
    arrayrecord_bytes,
    node_config_arg,
    node_partitions,
    simulate,
    torch_threads,
)


def main(grid, context):
    grid = MeteredGrid(grid)
    partitions = node_partitions(grid, expected=2)
    x = np.ones((4, 3), np.float32)
    with grid.stage("gan"):
        record = RecordDict({"arrays": array_record({"x": x}), "config": ConfigRecord({})})
        replies = grid.send_and_receive([Message(record, n, f"{MessageType.TRAIN}.gan_step") for n in partitions])
    scores = {partitions[r.metadata.src_node_id]: r.content["arrays"]["score"].numpy().tolist() for r in replies}
    strategy = ByteCountingFedAvg(fraction_train=1.0, fraction_evaluate=0.0, min_available_nodes=2,
                                  partitions=partitions, seed=0)
    with grid.stage("fedavg"):
        result = strategy.start(grid=grid, initial_arrays=array_record({"w": np.zeros(3, np.float32)}), num_rounds=2)
    return {"scores": scores, "w": result.arrays["w"].numpy().tolist(), "gan": grid.traffic("gan"),
            "fedavg": grid.traffic("fedavg"), "bytes_down": strategy.bytes_down}


def test_simulation_runs_a_custom_action_and_fedavg(demo_app, demo_module):
    import ray.cloudpickle

    ray.cloudpickle.register_pickle_by_value(demo_module)  # test modules cannot be imported by Ray's workers
    out = simulate(main, demo_app, num_supernodes=2)
    assert out["scores"] == {0: [3.0] * 4, 1: [6.0] * 4}
    # two rounds, both partitions: w += (1·1 + 2·2) / 3 per round
    np.testing.assert_allclose(out["w"], [10 / 3] * 3, rtol=1e-6)
    assert out["gan"].bytes_sent == 2 * arrayrecord_bytes({"x": np.ones((4, 3), np.float32)})
    assert out["fedavg"].bytes_sent == 4 * arrayrecord_bytes({"w": np.zeros(3, np.float32)})
    assert out["bytes_down"] == {1: out["fedavg"].bytes_sent // 2, 2: out["fedavg"].bytes_sent // 2}


def test_simulate_rejects_bad_arguments(demo_app):
    with pytest.raises(TypeError, match="ClientApp"):
        simulate(main, object(), 2)
    with pytest.raises(ValueError, match="num_supernodes"):
        simulate(main, demo_app, 0)
    with pytest.raises(ValueError, match="n must be"):
        with torch_threads(0):
            pass


def test_app_pyproject_names_components_and_config():
    text = app_pyproject("pkg.mod:server_app", "pkg.mod:client_app", {"fed.rounds": 2, "pet.method": "lora",
                                                                      "flag": True, "lr": 1e-3})
    flwr = tomllib.loads(text)["tool"]["flwr"]["app"]
    assert flwr["components"] == {"serverapp": "pkg.mod:server_app", "clientapp": "pkg.mod:client_app"}
    assert flwr["config"] == {"fed.rounds": 2, "pet.method": "lora", "flag": True, "lr": 1e-3}
    with pytest.raises(ValueError, match="module:attribute"):
        app_pyproject("pkg.mod", "pkg.mod:client_app", {})
    with pytest.raises(TypeError, match="run config"):
        app_pyproject("a:b", "a:c", {"x": [1]})


def test_node_config_arg_quotes_strings_so_flower_parses_them_back():
    from flwr.common.config import parse_config_args

    config = {"partition-id": 1, "num-partitions": 2, "data": "fmnist 8x8", "empty": "", "lr": 0.5, "fast": True}
    arg = node_config_arg(config)
    assert 'data="fmnist 8x8"' in arg and 'empty=""' in arg
    assert parse_config_args([arg]) == config
