import itertools

import numpy as np
import pytest

from paperzoo.papers.negotiation import (
    Act,
    ItemDivision,
    ItemScenario,
    PriceBargain,
    PriceScenario,
    make_env,
    margin,
    pareto_mask,
)
from paperzoo.papers.negotiation.environments import Listing


def test_sampled_scenarios_satisfy_the_dealornodeal_constraints():
    env = ItemDivision()
    scenarios = env.scenarios(1000, seed=3)
    for s in scenarios:
        assert all(1 <= c <= 4 for c in s.counts) and sum(s.counts) in (5, 6, 7)
        for values in s.values:
            assert min(values) >= 0 and sum(c * v for c, v in zip(s.counts, values, strict=True)) == 10
        assert all(a or b for a, b in zip(*s.values, strict=True))
        assert any(a and b for a, b in zip(*s.values, strict=True))
    assert len({s.counts for s in scenarios}) > 10  # many count vectors, not one
    assert env.sample(seed=5) == env.sample(seed=5)


@pytest.mark.parametrize("counts, values, needle", [
    ((0, 2, 3), ((2, 2, 0), (1, 1, 1)), "counts"),
    ((5, 1, 1), ((1, 5, 0), (1, 0, 5)), "counts"),
    ((1, 1, 1), ((4, 3, 3), (3, 3, 4)), "counts"),        # 3 items in all
    ((1, 2, 3), ((4, 0, 1), (2, 1, 2)), "values of seat 0"),  # worth 7, not 10
    ((1, 2, 3), ((4, 3, 0), (-2, 3, 2)), "values"),
    ((1, 2, 3), ((10, 0, 0), (0, 5, 0)), "valued by someone"),  # balls valued by nobody
    ((2, 2, 2), ((5, 0, 0), (0, 5, 0)), "valued by someone"),
    ((1, 2, 3), ((10, 0, 0), (0, 2, 2)), "valued by both"),
])
def test_invalid_scenarios_name_what_is_wrong(counts, values, needle):
    with pytest.raises(ValueError, match=needle):
        ItemScenario(counts, values)


def test_pareto_set_matches_brute_force():
    env = ItemDivision()
    for s in env.scenarios(30, seed=1):
        outcomes = [tuple(o) for o in env.outcomes(s)]
        assert len(outcomes) == np.prod([c + 1 for c in s.counts]) <= 125
        rest = {o: tuple(c - x for c, x in zip(s.counts, o, strict=True)) for o in outcomes}
        score = {o: (env.score(s, 0, o), env.score(s, 1, rest[o])) for o in outcomes}
        brute = {o for o in outcomes if not any(
            p[0] >= score[o][0] and p[1] >= score[o][1] and p != score[o] for p in score.values())}
        assert set(env.pareto_set(s)) == brute
        assert all(env.is_pareto(s, o) == (o in brute) for o in outcomes)
        assert env.pareto_base_rate(s) == pytest.approx(len(brute) / len(outcomes))
        assert env.best_joint(s) == max(a + b for a, b in score.values())


def test_pareto_mask_on_points():
    points = np.array([[1, 1], [2, 0], [0, 2], [1, 0], [2, 0]])
    assert pareto_mask(points).tolist() == [True, True, True, False, True]


def test_item_protocol_accept_reject_quit_and_turn_limit():
    env = ItemDivision(max_turns=4)
    s = ItemScenario((1, 2, 3), ((4, 0, 2), (2, 1, 2)))
    state = env.start(s, first=1)
    assert state.speaker == 1
    with pytest.raises(ValueError, match="no proposal from the partner"):
        env.step(state, Act("accept"))
    with pytest.raises(ValueError, match="not a division"):
        env.step(state, Act("propose", offer=(2, 0, 0)))
    state = env.step(state, Act("propose", offer=(0, 2, 1)))  # seat 1 keeps 2 hats and a ball
    obs = env.observe(state, 0)
    assert obs.can_accept and obs.partner_offer == (1, 0, 2) and obs.private == (4, 0, 2)
    done = env.step(state, Act("accept"))
    assert done.done and env.outcome(done).scores == (8.0, 4.0) and env.outcome(done).deal == (1, 0, 2)
    rejected = env.step(state, Act("reject"))
    assert not env.observe(rejected, 1).can_accept and not env.observe(rejected, 0).can_accept
    quit_ = env.step(state, Act("quit"))
    assert quit_.done and env.outcome(quit_).scores == (0.0, 0.0)
    with pytest.raises(ValueError, match="already ended"):
        env.step(quit_, Act("inform"))
    talk = state
    for _ in range(3):
        talk = env.step(talk, Act("inform"))
    assert talk.done and not talk.agreed and len(talk.turns) == 4


def test_selection_end_rule_scores_zero_on_mismatch():
    env = ItemDivision(end_rule="selection")
    s = ItemScenario((1, 2, 3), ((4, 0, 2), (2, 1, 2)))
    state = env.step(env.step(env.start(s, 0), Act("propose", offer=(1, 0, 2))), Act("accept"))
    assert env.outcome(env.settle(state, ((1, 0, 2), (0, 2, 1)))).scores == (8.0, 4.0)
    assert env.outcome(env.settle(state, ((1, 0, 2), (0, 2, 3)))).scores == (0.0, 0.0)
    with pytest.raises(ValueError, match="end_rule"):
        ItemDivision(end_rule="vote")


def _listing(seller=100.0, buyer=70.0, bottoms=(75.0, 90.0)):
    return PriceScenario(Listing("bike", "Road bike", seller), (seller, buyer), bottoms)


def test_price_protocol_offer_must_be_answered_and_margins():
    env = PriceBargain()
    s = _listing()
    assert margin(s, 100) == pytest.approx(1) and margin(s, 70) == pytest.approx(-1) and margin(s, 85) == 0
    state = env.start(s, first=1)
    state = env.step(state, Act("init-price", price=60))
    with pytest.raises(ValueError, match="no offer"):
        env.step(state, Act("accept"))
    state = env.step(state, Act("offer", price=85))
    with pytest.raises(ValueError, match="answer the standing offer"):
        env.step(state, Act("counter-price", price=80))
    assert env.observe(state, 1).can_accept and env.observe(state, 1).partner_offer == 85
    deal = env.outcome(env.step(state, Act("accept")))
    assert deal.agreed and deal.scores == pytest.approx((0.5, 0.5)) and deal.extra["fairness"] == 0
    state = env.step(state, Act("reject"))
    assert not state.done and state.pending is None
    none = env.outcome(env.step(state, Act("quit")))
    assert not none.agreed and none.scores == (0.25, 0.25) and none.extra["margin"] == -0.5


def test_price_scenarios_and_validation():
    env = PriceBargain()
    for s in env.scenarios(200, seed=2):
        seller, buyer = s.targets
        assert seller == s.listing.list_price and buyer / seller == pytest.approx(
            min((0.9, 0.7, 0.5), key=lambda d: abs(d - buyer / seller)), abs=0.03)
        assert 0.6 * seller <= s.bottoms[0] <= 0.8 * seller
        assert 1.15 * buyer <= s.bottoms[1] <= 1.55 * buyer
    with pytest.raises(ValueError, match="buyer's target"):
        _listing(seller=100, buyer=120, bottoms=(75, 130))
    with pytest.raises(ValueError, match="bottoms"):
        _listing(bottoms=(110, 90))
    with pytest.raises(ValueError, match="price must be a positive"):
        Act("offer", price=-5)
    with pytest.raises(ValueError, match="env must be one of"):
        make_env("chess")


def test_acts_validate_their_payload():
    assert Act("propose", offer=np.array([1, 0, 2])).offer == (1, 0, 2)
    for bad in (dict(intent="propose"), dict(intent="accept", offer=(1, 0, 0)), dict(intent="offer"),
                dict(intent="propose", offer=(1.5, 0, 0)), dict(intent="haggle")):
        with pytest.raises(ValueError):
            Act(**bad)
    assert {str(Act("propose", offer=o)) for o in itertools.product(range(2), repeat=3)} >= {"propose(1,0,1)"}
