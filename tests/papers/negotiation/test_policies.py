import numpy as np
import pytest
import torch

from paperzoo.papers.negotiation import (
    ActRL,
    EndToEndAgent,
    ItemActions,
    ItemDivision,
    PriceBargain,
    RLPolicy,
    RolloutAgent,
    SupervisedPolicy,
    play,
    reward_of,
    self_play_logs,
)
from paperzoo.papers.negotiation.batched import ItemBatch, run_batch


@pytest.fixture(scope="module")
def items_setup():
    torch.set_num_threads(1)
    env = ItemDivision()
    scenarios = env.scenarios(150, seed=3)
    logs = self_play_logs(env, scenarios, seed=0)
    sl = SupervisedPolicy(env, epochs=3, seed=0).fit(logs)
    return env, scenarios, logs, sl


def test_supervised_policy_learns_and_plays_legally(items_setup):
    env, scenarios, logs, sl = items_setup
    assert sl.history[-1]["loss"] < sl.history[0]["loss"]
    assert len(sl.data[2]) == sum(len(d.turns) for d in logs)  # rule agents only propose, accept or quit
    for k, s in enumerate(scenarios[:20]):
        play(sl, sl, s, seed=k)  # illegal acts would raise


def test_batched_games_follow_the_environment_rules(items_setup):
    env, scenarios, _, sl = items_setup
    games = scenarios[:40]
    learner_seat = np.arange(40) % 2
    batch = ItemBatch(games, np.arange(40) // 2 % 2, env.max_turns)
    trace = run_batch(batch, (sl.net, sl.frozen().net), learner_seat, 0.5, torch.Generator().manual_seed(1))
    actions = np.stack(batch.actions, axis=1)  # (games, messages), -1 after the end
    space = ItemActions()
    for g, scenario in enumerate(games):
        state = env.start(scenario, first=int(batch.first[g]))
        rows = iter(np.flatnonzero(trace.games == g))  # the learner's decisions in this game, in order
        for a in actions[g][actions[g] >= 0]:
            obs = env.observe(state, state.speaker)
            if state.speaker == learner_seat[g]:
                row = next(rows)
                np.testing.assert_allclose(trace.features[row], space.features(obs), atol=1e-6)
                assert (trace.masks[row] == space.mask(obs)).all() and trace.actions[row] == a
            state = env.step(state, space.decode(int(a), obs))
        assert state.done and next(rows, None) is None
        outcome = env.outcome(state)
        assert outcome.agreed == batch.agreed[g] and outcome.scores == tuple(batch.scores()[g])
        assert len(state.turns) == batch.length[g]


def test_rl_training_batched_and_one_act_at_a_time(items_setup):
    env, scenarios, _, sl = items_setup
    before = [p.detach().clone() for p in sl.net.parameters()]
    curve = []
    rl = RLPolicy(sl, batch=16, seed=0).train(sl.frozen(), scenarios, 64, eval_every=32,
                                             evaluate=lambda pol, n: curve.append(n) or {"n": n})
    assert curve == [0, 32, 64] and [h["dialogues"] for h in rl.history] == [0, 32, 64]
    assert len(rl.rewards) == 64
    assert any((a != b).any() for a, b in zip(before, rl.net.parameters(), strict=True))
    assert all((a == b).all() for a, b in zip(before, sl.net.parameters(), strict=True))  # the base stays as it was
    loop = RLPolicy(sl, batch=8, seed=0).train(sl.frozen(), scenarios, 16, batched=False)
    assert len(loop.rewards) == 16
    with pytest.raises(ValueError, match="reward must be one of"):
        RLPolicy(sl, reward="margin")
    with pytest.raises(ValueError, match="n must be"):
        RLPolicy(sl).train(sl, scenarios, 0)


def test_rollout_agent_plays_legal_acts(items_setup):
    env, scenarios, _, sl = items_setup
    agent = RolloutAgent(sl, partner_model=sl, candidates=3, rollouts=2)
    for k, s in enumerate(scenarios[:5]):
        d = play(agent, sl, s, seed=k)
        assert 1 <= len(d.turns) <= env.max_turns


def test_end_to_end_agent_speaks_through_the_parser(items_setup):
    env, scenarios, logs, sl = items_setup
    e2e = EndToEndAgent(env, epochs=1, seed=0).fit(logs[:60])
    for k, s in enumerate(scenarios[:4]):
        play(e2e, sl, s, seed=k)
    assert e2e.lines and 0 <= e2e.parse_rate() <= 1
    n = len(e2e.lines)
    result = e2e.train_rl(sl.frozen(), scenarios, 3, seed=0)
    assert result["dialogues"] == 3 and len(e2e.lines) > n


def test_act_rl_on_prices_and_rewards():
    torch.set_num_threads(1)
    env = PriceBargain()
    scenarios = env.scenarios(60, seed=2)
    sl = SupervisedPolicy(env, epochs=2, seed=0).fit(self_play_logs(env, scenarios, seed=0))
    agent = ActRL("fair", sl, batch=8, seed=0).train(sl.frozen(), scenarios, 16)
    assert len(agent.rewards) == 16 and agent.name == "act-rl-fair"
    d = play(agent, sl, scenarios[0], seed=0)
    for reward in ("margin", "fair", "length"):
        value = reward_of(reward, d, 0)
        assert value == -0.5 if not d.agreed else value > -10
    with pytest.raises(ValueError, match="PriceBargain"):
        ActRL("margin", SupervisedPolicy(ItemDivision(), epochs=1))
