"""A negotiation-dialogue toolkit after the survey "Let's Negotiate!" (Zhan et al., arXiv 2212.09072).

Benchmarks (integrative item division after DealOrNoDeal, distributive price bargaining after
CraigslistBargain), dialogue acts with a template generator and a parser, rule agents (time-dependent
Boulware/Linear/Conceder, tit-for-tat, random), supervised and RL policies over acts, rollout planning,
act-level RL with He et al.'s rewards, an end-to-end word-level agent, a tournament arena, the survey's
evaluation measures and a terminal chat (`paperzoo negotiate`).

    from paperzoo.papers.negotiation import ItemDivision, boulware, conceder, play, Tournament, Generator
    env = ItemDivision()
    d = play(boulware(), conceder(), env.sample(seed=0), seed=0)
    print(d.agreed, d.scores, d.pareto_optimal, len(d.turns))
    for turn in d.turns: print(turn.speaker, Generator(env, seed=0).render(turn.act))
    res = Tournament([boulware(), conceder()], env, n_scenarios=100, seeds=[0]).run()
    print(res.table())   # agreement, score_all, score_agreed, pareto, length per agent
"""

import lazy_loader as lazy

__getattr__, __dir__, __all__ = lazy.attach(__name__, submod_attrs={
    "acts": ["Act", "ITEM_INTENTS", "PRICE_INTENTS"],
    "environments": ["ItemDivision", "PriceBargain", "ItemScenario", "PriceScenario", "Listing", "Observation",
                     "Outcome", "Turn", "make_env", "margin", "pareto_mask"],
    "language": ["Generator", "Parser", "round_trip", "paraphrase_accuracy", "format_price"],
    "agents": ["Agent", "TimeDependent", "boulware", "linear", "conceder", "TitForTat", "RandomAgent", "make_agent"],
    "policies": ["SupervisedPolicy", "RLPolicy", "ActRL", "PolicyAgent", "ItemActions", "PriceActions",
                 "self_play_logs", "sl_pool", "decisions", "reward_of"],
    "planning": ["RolloutAgent"],
    "end_to_end": ["EndToEndAgent"],
    "batched": ["ItemBatch", "run_batch"],
    "arena": ["play", "Dialogue", "Tournament", "Results"],
    "evaluation": ["metrics", "bootstrap_mean"],
    "chat": ["chat"],
})
