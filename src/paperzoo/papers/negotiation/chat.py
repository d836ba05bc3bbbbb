"""Negotiate with an agent in the terminal: `paperzoo negotiate --env items|price --agent boulware`.

The chat shows your private information, reads your lines through the act parser (asking again when it
does not understand or the act is not possible), renders the agent's acts as text, and ends with the
outcome, both scores and whether the deal was Pareto optimal. End of input means no deal (exit 0);
Ctrl-C too, with exit code 130.

Example (from Python, with scripted input):
    import io
    from paperzoo.papers.negotiation import ItemDivision, conceder, chat
    chat(ItemDivision(), conceder(), seed=0, input=io.StringIO("I take nothing\\n"))
"""

from __future__ import annotations

import sys
from typing import Any, TextIO

import numpy as np

from .acts import Act
from .agents import Agent
from .arena import Dialogue
from .environments import ITEM_NAMES, ItemDivision, PriceBargain
from .language import Generator, Parser, format_price

_ITEM_HELP = ("say what you want, e.g. 'I take 2 books and the ball' or 'you get the hats, I keep the rest'; "
              "'deal' accepts the agent's last proposal, 'no' rejects it, 'bye' walks away")
_PRICE_HELP = ("name a price ('how about $120?'), make a final offer ('my final offer is $120'), answer a final "
               "offer with 'deal' or 'no', or walk away with 'bye'")


def _items_phrase(share: tuple[int, ...]) -> str:
    parts = [f"{n} {name}{'' if n == 1 else 's'}" for n, name in zip(share, ITEM_NAMES, strict=True) if n]
    return ", ".join(parts) if parts else "nothing"


def chat(env: ItemDivision | PriceBargain, agent: Agent, seed: int = 0, seat: int | None = None,
         input: TextIO | None = None, output: TextIO | None = None) -> Dialogue:
    """Play one dialogue between a person (reading `input`, default stdin) and `agent`; returns it.

    The scenario, the person's seat (unless `seat` is given) and the first mover come from `seed`.
    Input never raises: empty or unreadable lines and impossible acts make the chat ask again, and the
    end of input ends the dialogue without a deal. Ctrl-C (KeyboardInterrupt) is left to the caller.
    """
    input = input if input is not None else sys.stdin
    out = output if output is not None else sys.stdout
    rng = np.random.default_rng(seed)
    scenario = env.sample(rng)
    person = int(rng.integers(2)) if seat is None else seat
    if person not in (0, 1):
        raise ValueError(f"seat must be 0, 1 or None, got {seat!r}")
    first = int(rng.integers(2))
    agent_seat = 1 - person
    agent.reset(agent_seat, scenario.private(agent_seat), int(rng.integers(2**31)))
    generator, parser = Generator(env, seed), Parser(env)
    items = isinstance(env, ItemDivision)

    def say(text: str = "") -> None:
        print(text, file=out, flush=True)

    say(_introduction(env, scenario, person))
    say(f"Tip: {_ITEM_HELP if items else _PRICE_HELP}.")
    say(f"{'You start' if first == person else 'The agent starts'}; {env.max_turns} messages at most.\n")
    state = env.start(scenario, first)
    ended_by_input = False
    while not state.done:
        if state.speaker == agent_seat:
            act = agent.act(env.observe(state, agent_seat))
            state = env.step(state, act)
            say(f"agent: {generator.render(act)}{_gloss(scenario, person, agent_seat, act)}")
            continue
        obs = env.observe(state, person)
        out.write("you> ")
        out.flush()
        line = input.readline()
        if line == "":  # end of input
            say()
            ended_by_input = True
            break
        act, understood = parser.read(line, obs)
        if not understood:
            say(f"  (not understood: {_ITEM_HELP if items else _PRICE_HELP})" if line.strip() else
                "  (say something: a proposal, 'deal', 'no' or 'bye')")
            continue
        try:
            state = env.step(state, act)
        except ValueError as exc:
            say(f"  (not possible: {str(exc).removeprefix('act: ').removeprefix('act.')}; try again)")
            continue
        say(f"  (understood: {act}){_gloss(scenario, person, person, act)}")
    names = ("you", agent.name) if person == 0 else (agent.name, "you")
    dialogue = Dialogue(env, scenario, first, state.turns, env.outcome(state), names)
    say(_summary(env, dialogue, person, ended_by_input))
    return dialogue


def _introduction(env: Any, scenario: Any, person: int) -> str:
    if isinstance(env, ItemDivision):
        pool = ", ".join(f"{c} {n}{'' if c == 1 else 's'}" for c, n in zip(scenario.counts, ITEM_NAMES, strict=True))
        worth = ", ".join(f"{n} {v}" for n, v in zip(ITEM_NAMES, scenario.values[person], strict=True))
        return (f"On the table: {pool}. Your points per item: {worth} (everything is worth 10 to you). "
                f"The agent values them differently and does not see yours.")
    listing, mine = scenario.listing, scenario.private(person)
    role = env.roles[person]
    limit = "accept no less than" if role == "seller" else "pay no more than"
    return (f"You are the {role} of '{listing.title}' ({listing.category}), listed at "
            f"{format_price(listing.list_price)}. Your target: {format_price(mine['target'])}; your bottom line: "
            f"{limit} {format_price(mine['bottom'])}.")


def _gloss(scenario: Any, person: int, speaker: int, act: Act) -> str:
    """What an item proposal would give the person, in items and points."""
    if act.intent != "propose":
        return ""
    share = act.offer if speaker == person else tuple(c - o for c, o in zip(scenario.counts, act.offer, strict=True))
    points = sum(v * n for v, n in zip(scenario.values[person], share, strict=True))
    return f"   [you would get {_items_phrase(share)}: {points} points]"


def _summary(env: Any, d: Dialogue, person: int, ended_by_input: bool) -> str:
    agent = 1 - person
    if not d.agreed:
        reason = " (input ended)" if ended_by_input else ""
        if isinstance(env, ItemDivision):
            return f"No deal{reason}: both score 0. The agent's values were {d.scenario.values[agent]}."
        return f"No deal{reason}: both get the no-deal utility {d.scores[person]:.2f}."
    if isinstance(env, ItemDivision):
        share = d.deal if person == 0 else tuple(c - x for c, x in zip(d.scenario.counts, d.deal, strict=True))
        other = tuple(c - x for c, x in zip(d.scenario.counts, share, strict=True))
        pareto = "is Pareto optimal" if d.pareto_optimal else \
            "is not Pareto optimal (another division gives both at least as much)"
        return (f"Deal: you get {_items_phrase(share)} ({d.scores[person]:.0f} points), the agent gets "
                f"{_items_phrase(other)} ({d.scores[agent]:.0f} points, its values were {d.scenario.values[agent]}). "
                f"The division {pareto}; the best joint score was {env.best_joint(d.scenario):.0f}.")
    return (f"Deal at {format_price(d.deal)}: your utility {d.scores[person]:.2f}, the agent's {d.scores[agent]:.2f} "
            f"(its bottom line was {format_price(d.scenario.bottoms[agent])}). A price deal is always Pareto optimal.")


# ---------------------------------------------------------------- the registered command

AGENT_CHOICES = ("boulware", "linear", "conceder", "titfortat", "random", "supervised", "rl")


def build_agent(name: str, env: Any, u_min: float, seed: int, log: TextIO) -> Agent:
    """A rule agent by name, or a supervised / RL policy trained here on seeded self-play (seconds)."""
    from .agents import RULE_AGENTS, make_agent

    if name in RULE_AGENTS:
        return make_agent(name, u_min)
    if name not in AGENT_CHOICES:
        raise ValueError(f"agent must be one of {', '.join(AGENT_CHOICES)}, got {name!r}")
    import torch

    from .policies import RLPolicy, SupervisedPolicy, self_play_logs

    torch.set_num_threads(1)
    print(f"training the {name} agent on 2,000 seeded self-play dialogues (a few seconds) ...", file=log, flush=True)
    scenarios = env.scenarios(2000, seed=10_000 + seed)
    sl = SupervisedPolicy(env, seed=seed, name="supervised").fit(self_play_logs(env, scenarios, seed=seed))
    if name == "supervised":
        return sl
    return RLPolicy(sl, seed=seed).train(sl.frozen(), scenarios, n=4000)


def negotiate(args: Any) -> int:
    """`paperzoo negotiate`: exit 0 after the dialogue (deal or not), 130 on Ctrl-C, 2 on bad input."""
    from paperzoo.core.errors import UserError

    env = {"items": ItemDivision, "price": PriceBargain}.get(args.env)
    if env is None:
        raise UserError(f"unknown env {args.env!r} (choose from: items, price)")
    if args.agent not in AGENT_CHOICES:
        raise UserError(f"unknown agent {args.agent!r} (choose from: {', '.join(AGENT_CHOICES)})")
    if not 0 <= args.u_min < 1:
        raise UserError(f"--u-min must be in [0, 1), got {args.u_min}")
    env = env()
    if args.role is not None and args.role not in env.roles:
        raise UserError(f"--role {args.role!r} does not exist in {args.env} (choose from: {', '.join(env.roles)})")
    seat = None if args.role is None else env.roles.index(args.role)
    try:
        agent = build_agent(args.agent, env, args.u_min, args.seed, sys.stderr)
        chat(env, agent, seed=args.seed, seat=seat)
    except KeyboardInterrupt:
        print("\nNo deal (interrupted).", flush=True)
        return 130
    return 0
