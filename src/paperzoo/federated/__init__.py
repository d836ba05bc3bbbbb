"""Flower glue shared by the federated papers: measured bytes, reproducible sampling, launchers.

- `framing`: `array_record` builds an ArrayRecord from named numpy arrays / torch tensors;
  `arrayrecord_bytes` / `array_bytes` / `npy_header_bytes` predict `ArrayRecord.count_bytes()` exactly
  (4·n + .npy header + key length per float32 array); `message_bytes` measures a message.
- `metering`: `MeteredGrid` wraps any Grid and logs the bytes sent and delivered per stage.
- `partitions`: `add_partition_query` (ClientApp side), `node_partitions` (server side),
  `PartitionSampler` (seeded sampling by partition), `in_partition_order` (replies in a fixed order).
- `strategy`: `ByteCountingFedAvg`, FedAvg with all of the above and bytes per round.
- `simulation`: `simulate(main, client_app, num_supernodes)`, `server_app(main)`, thread helpers.
- `inprocess`: `InProcessGrid`, a Grid that runs a ClientApp in this process (tests, fast loops).
- `deployment`: `run_local_deployment`, the same apps as SuperLink + SuperNodes + `flwr run`.

Example (a custom train action driven by the server)::

    import numpy as np
    from flwr.app import Message, RecordDict
    from flwr.clientapp import ClientApp
    from paperzoo.federated import MeteredGrid, add_partition_query, array_record, node_partitions, simulate

    client_app = add_partition_query(ClientApp())

    @client_app.train("gan_step")
    def gan_step(msg, context):
        x = msg.content["arrays"]["x"].numpy()
        return Message(RecordDict({"arrays": array_record({"score": x.sum(1)})}), reply_to=msg)

    def main(grid, context):
        grid = MeteredGrid(grid, stage="gan")
        nodes = sorted(node_partitions(grid, expected=2))
        out = array_record({"x": np.ones((4, 3), np.float32)})
        replies = grid.send_and_receive([Message(RecordDict({"arrays": out}), n, "train.gan_step") for n in nodes])
        return grid.traffic("gan")

    traffic = simulate(main, client_app, num_supernodes=2)
"""

import lazy_loader as lazy

__getattr__, __dir__, __all__ = lazy.attach(__name__, submod_attrs={
    "framing": ["array_bytes", "array_record", "arrayrecord_bytes", "config_bytes", "message_bytes",
                "npy_header_bytes"],
    "metering": ["Exchange", "MeteredGrid", "Traffic"],
    "partitions": ["PARTITION_QUERY", "PartitionSampler", "add_partition_query", "in_partition_order",
                   "node_partition", "node_partitions", "partition_reply"],
    "strategy": ["ByteCountingFedAvg"],
    "simulation": ["SIMULATION_ENV", "available_cores", "client_threads", "server_app", "simulate", "torch_threads"],
    "inprocess": ["InProcessGrid"],
    "deployment": ["DeploymentRun", "app_pyproject", "free_ports", "node_config_arg", "run_local_deployment"],
})
