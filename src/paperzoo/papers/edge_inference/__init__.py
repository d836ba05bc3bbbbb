"""Collaborative DNN inference across device, edge and cloud (Ren et al., arXiv 2207.07812).

The survey's four paradigms as one toolkit: Neurosurgeon chain split with per-layer latency regressions
(cloud-device), DADS min-cut on DAGs and BranchyNet/Edgent early exit with split (edge-device), two cut
points (cloud-edge-device) and MoDNN/DeepThings row partitions (device-device), run by a real runtime
whose tiers are separate processes talking gRPC.

    import torch
    from paperzoo.papers.edge_inference import EdgeNet, profile_graph, chain_split, Tier, Link, Runtime
    model, x = EdgeNet().eval(), torch.randn(1, 3, 64, 64)
    tiers, links = [Tier("device", slowdown=10), Tier("cloud", slowdown=1)], [Link(5e6, 0.010)]
    plan = chain_split(profile_graph(model, x), tiers, links)
    with Runtime(model, plan, tiers, links) as rt:
        y, seconds = rt.infer(x)
"""

import lazy_loader as lazy

__getattr__, __dir__, __all__ = lazy.attach(__name__, submod_attrs={
    "profiling": ["profile_graph", "GraphProfile", "NodeProfile", "LatencyModel", "random_dag",
                  "random_layer_records"],
    "planning": ["Tier", "Link", "Plan", "chain_split", "chain_latencies", "mincut_partition",
                 "brute_force_partition", "plan_cost_ns"],
    "splitting": ["split_module", "Part"],
    "early_exit": ["EarlyExitNet", "joint_exit_split", "brute_force_exit_split", "train_early_exit",
                   "calibrate_thresholds", "exit_accuracies", "ExitSplit", "path_latencies"],
    "spatial": ["SpatialPartition", "D2DRuntime"],
    "runtime": ["Runtime", "InferResult", "TierProcess", "measure", "hop_overhead", "start_tiers"],
    "models": ["EdgeNet", "MiniAlexNet", "DagNet", "exit_cnn_1d"],
    "wire": ["encode", "decode", "WireError"],
})
