import json

import pytest

from paperzoo.papers.negotiation import (
    ItemDivision,
    PriceBargain,
    RandomAgent,
    Tournament,
    boulware,
    conceder,
    linear,
    metrics,
    play,
)


def test_play_is_deterministic_and_records_the_outcome():
    env = ItemDivision()
    s = env.sample(seed=0)
    a, b = play(boulware(), conceder(), s, seed=0), play(boulware(), conceder(), s, seed=0)
    assert a.turns == b.turns and a.scores == b.scores and a.first == b.first
    assert a.agreed and a.pareto_optimal == env.is_pareto(s, a.deal)
    replayed = [obs.seat for obs, _ in a.observations()]
    assert replayed == [t.speaker for t in a.turns]
    self_play = play(linear(), linear(), s, seed=1)  # one object in both seats plays as two players
    assert self_play.agreed


def test_same_seed_same_tournament_jsonl(tmp_path):
    env = ItemDivision()
    agents = [boulware(), conceder(), RandomAgent()]
    logs = []
    for k in range(2):
        Tournament(agents, env, n_scenarios=8, seeds=[0, 1], scenario_seed=5).run(log=tmp_path / f"t{k}.jsonl")
        logs.append((tmp_path / f"t{k}.jsonl").read_bytes())
    assert logs[0] == logs[1]
    rows = [json.loads(line) for line in logs[0].splitlines()]
    assert len(rows) == 3 * 3 * 8 * 2 * 2  # ordered pairs x scenarios x seeds x first movers
    pairs = {(r["a"], r["b"]) for r in rows}
    assert ("boulware", "conceder") in pairs and ("conceder", "boulware") in pairs
    for r in rows:  # both first movers on every scenario for every pair
        assert {x["first"] for x in rows if (x["a"], x["b"], x["scenario"], x["seed"])
                == (r["a"], r["b"], r["scenario"], r["seed"])} == {0, 1}
    other = Tournament(agents, env, n_scenarios=8, seeds=[2], scenario_seed=5).run()
    assert [r["scores"] for r in other.rows] != [r["scores"] for r in rows[: len(other.rows)]]


def test_results_table_and_pairwise():
    env = ItemDivision()
    res = Tournament([boulware(), conceder()], env, n_scenarios=10, seeds=[0]).run()
    matrix = res.pairwise()
    assert set(matrix) == {"boulware", "conceder"} and matrix["boulware"]["conceder"] > matrix["conceder"]["boulware"]
    games, seats = res.games_of("boulware", ["conceder"])
    assert len(games) == 10 * 2 * 2  # as row agent and as column agent
    table = res.table()
    assert "score_agreed" in table and "boulware" in table.splitlines()[1]
    with pytest.raises(ValueError, match="distinct names"):
        Tournament([boulware(), boulware()], env, n_scenarios=2)


def test_metrics_on_hand_made_rows():
    rows = [
        {"agreed": True, "scores": [8, 4], "length": 4, "first": 0, "deal": [1, 0, 2], "pareto": True,
         "pareto_base": 0.2, "nash_ratio": 1.0},
        {"agreed": False, "scores": [0, 0], "length": 10, "first": 1, "deal": None, "pareto": None,
         "pareto_base": 0.3, "nash_ratio": 0.0},
        {"agreed": True, "scores": [5, 7], "length": 6, "first": 0, "deal": [0, 2, 2], "pareto": False,
         "pareto_base": 0.1, "nash_ratio": 0.8},
    ]
    m = metrics(rows, seat=0)
    assert m["agreement"] == pytest.approx(2 / 3) and m["score_all"] == pytest.approx(13 / 3)
    assert m["score_agreed"] == pytest.approx(6.5) and m["pareto"] == 0.5 and m["pareto_base"] == pytest.approx(0.2)
    assert metrics(rows, seat=[1, 0, 0])["score_all"] == pytest.approx((4 + 0 + 5) / 3)
    assert metrics(rows)["score_all"] == pytest.approx((12 + 0 + 12) / 6)
    assert m["joint"] == pytest.approx(8) and m["length"] == pytest.approx(20 / 3)
    with pytest.raises(ValueError, match="seat"):
        metrics(rows, seat=2)
    with pytest.raises(ValueError, match="empty"):
        metrics([])


def test_price_metrics_margin_and_fairness():
    env = PriceBargain()
    games = [play(boulware(), conceder(), s, seed=k) for k, s in enumerate(env.scenarios(30, seed=1))]
    seller, buyer = metrics(games, seat=0), metrics(games, seat=1)
    deals = [g for g in games if g.agreed]
    assert deals and all(g.pareto_optimal for g in deals)
    assert seller["margin"] > buyer["margin"] and seller["fairness"] <= 0
    assert seller["utility" if "utility" in seller else "score_agreed"] > buyer["score_agreed"]
