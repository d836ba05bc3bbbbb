"""Our Boulware/Conceder ordering against NegMAS's time-based negotiators on the same domains."""

import pytest

negmas = pytest.importorskip("negmas", reason="the optional extra paperzoo[negmas] (AGPL) is not installed")

from paperzoo.papers.negotiation import ItemDivision, boulware, conceder, play  # noqa: E402


def _negmas(scenario, a_cls, b_cls, steps):
    from negmas import SAOMechanism, make_issue
    from negmas.preferences import LinearAdditiveUtilityFunction
    from negmas.preferences.value_fun import AffineFun, LinearFun

    counts, (va, vb) = scenario.counts, scenario.values
    issues = [make_issue(values=c + 1, name=n) for c, n in zip(counts, ("book", "hat", "ball"), strict=True)]
    # An outcome is A's share; B receives the rest.
    ua = LinearAdditiveUtilityFunction(values=[LinearFun(v / 10) for v in va], issues=issues)
    b_values = [AffineFun(-v / 10, bias=c * v / 10) for v, c in zip(vb, counts, strict=True)]
    ub = LinearAdditiveUtilityFunction(values=b_values, issues=issues)
    mechanism = SAOMechanism(issues=issues, n_steps=steps)
    mechanism.add(a_cls(name="a"), preferences=ua)
    mechanism.add(b_cls(name="b"), preferences=ub)
    state = mechanism.run()
    deal = state.agreement
    return (ua(deal), ub(deal), state.step) if deal is not None else (0.0, 0.0, state.step)


def test_boulware_beats_conceder_and_boulware_pairs_take_longer_in_both_implementations():
    from negmas.sao import BoulwareTBNegotiator, ConcederTBNegotiator

    env = ItemDivision()
    scenarios = env.scenarios(12, seed=7)
    ours_bc = [play(boulware(), conceder(), s, seed=k, env=env) for k, s in enumerate(scenarios)]
    ours_bb = [play(boulware(), boulware(), s, seed=k, env=env) for k, s in enumerate(scenarios)]
    theirs_bc = [_negmas(s, BoulwareTBNegotiator, ConcederTBNegotiator, env.max_turns) for s in scenarios]
    theirs_bb = [_negmas(s, BoulwareTBNegotiator, BoulwareTBNegotiator, env.max_turns) for s in scenarios]
    ours_gap = sum(d.scores[0] - d.scores[1] for d in ours_bc) / len(ours_bc)
    theirs_gap = sum(10 * (a - b) for a, b, _ in theirs_bc) / len(theirs_bc)
    assert ours_gap > 0 and theirs_gap > 0  # Boulware (seat A) gets more than Conceder in both
    ours_lengths = (sum(len(d.turns) for d in ours_bc), sum(len(d.turns) for d in ours_bb))
    theirs_steps = (sum(s for *_, s in theirs_bc), sum(s for *_, s in theirs_bb))
    assert ours_lengths[0] < ours_lengths[1] and theirs_steps[0] < theirs_steps[1]  # Boulware pairs take longer
