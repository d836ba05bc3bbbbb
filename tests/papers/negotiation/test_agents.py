import numpy as np
import pytest

from paperzoo.papers.negotiation import (
    Act,
    ItemDivision,
    ItemScenario,
    PriceBargain,
    RandomAgent,
    TimeDependent,
    TitForTat,
    boulware,
    conceder,
    linear,
    make_agent,
    metrics,
    play,
)


def test_time_dependent_targets_at_start_and_deadline():
    T = 10
    for agent, u_min in ((boulware(), 0.0), (linear(0.3), 0.3), (conceder(0.2), 0.2)):
        assert agent.target(0, T) == 1.0
        assert agent.target(T, T) == pytest.approx(u_min)
        targets = [agent.target(t, T) for t in range(T + 1)]
        assert all(a >= b for a, b in zip(targets, targets[1:], strict=False))
    assert boulware().target(5, T) > linear().target(5, T) > conceder().target(5, T)
    assert boulware().target(5, T) == pytest.approx(1 - 0.5 ** 5)
    assert conceder().target(5, T) == pytest.approx(1 - 0.5 ** 0.2)
    with pytest.raises(ValueError, match="e must be"):
        TimeDependent(0)
    with pytest.raises(ValueError, match="u_min"):
        TimeDependent(1, u_min=1.5)
    with pytest.raises(ValueError, match="agent must be one of"):
        make_agent("nash")


def _obs(env, state, seat):
    return env.observe(state, seat)


def test_bids_the_outcome_closest_above_the_target_and_accepts_by_the_target():
    env = ItemDivision()
    s = ItemScenario((1, 2, 3), ((4, 0, 2), (2, 1, 2)))
    agent = TimeDependent(1.0)  # linear: target at message t is 1 - t/10
    agent.reset(0, s.values[0], seed=0)
    state = env.start(s, first=0)
    first = agent.act(_obs(env, state, 0))
    assert first.intent == "propose" and env.score(s, 0, first.offer) == 10
    assert first.offer[1] == 0  # hats are worth 0 to it: it gives them away (ties go to the partner)
    state = env.step(state, first)
    # the partner offers 6 points at message 2; the linear target there (t = 3) is 0.7 -> reject, bid >= 7
    state = env.step(state, Act("propose", offer=(0, 2, 2)))
    reply = agent.act(_obs(env, state, 0))
    assert reply.intent == "propose" and env.score(s, 0, reply.offer) == 8  # 8 is the closest level >= 7
    generous = env.step(env.step(env.start(s, 1), Act("propose", offer=(0, 2, 0))), Act("inform"))
    agent.reset(0, s.values[0], seed=0)
    obs = _obs(env, env.step(generous, Act("propose", offer=(0, 2, 1))), 0)  # 8 points offered at t = 4
    assert agent.act(obs).intent == "accept"


def test_reservation_agent_quits_on_the_last_message():
    env = ItemDivision(max_turns=4)
    s = ItemScenario((1, 2, 3), ((4, 0, 2), (2, 1, 2)))
    stubborn = boulware(0.5)
    stubborn.reset(1, s.values[1], seed=0)
    state = env.start(s, first=0)
    for act in (Act("propose", offer=(1, 2, 3)), Act("inform"), Act("propose", offer=(1, 2, 3))):
        state = env.step(state, act)
    assert stubborn.act(_obs(env, state, 1)).intent == "quit"


@pytest.mark.parametrize("env", [ItemDivision(), PriceBargain()], ids=["items", "price"])
def test_every_rule_agent_plays_legal_acts_in_both_environments(env):
    agents = [boulware(), linear(0.3), conceder(), TitForTat(), TitForTat(0.3), RandomAgent()]
    for k, scenario in enumerate(env.scenarios(15, seed=4)):
        for a in agents:
            b = agents[(k + 1) % len(agents)]
            d = play(a, b, scenario, seed=k, env=env)  # an illegal act would raise
            assert 1 <= len(d.turns) <= env.max_turns


def test_boulware_holds_out_against_conceder():
    env = ItemDivision()
    games = [play(boulware(), conceder(), s, seed=k) for k, s in enumerate(env.scenarios(60, seed=9))]
    a, b = metrics(games, seat=0), metrics(games, seat=1)
    assert a["agreement"] == 1.0 and a["score_agreed"] > b["score_agreed"] + 2
    hold = [play(boulware(), boulware(), s, seed=k) for k, s in enumerate(env.scenarios(60, seed=9))]
    assert metrics(hold)["length"] > a["length"]


def test_random_agent_is_seeded():
    env = ItemDivision()
    s = env.sample(seed=1)
    runs = [[str(t.act) for t in play(RandomAgent(), RandomAgent(), s, seed=3).turns] for _ in range(2)]
    assert runs[0] == runs[1]
    assert np.mean([len(play(RandomAgent(1.0), RandomAgent(1.0), s, seed=k).turns) for k in range(20)]) <= 2
