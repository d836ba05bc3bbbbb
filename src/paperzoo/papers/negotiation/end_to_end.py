"""An end-to-end agent (Lewis et al. 2017): a word-level GRU that writes its own lines.

It is trained as a language model on rendered self-play dialogues (context tokens with the counts and
its values, then the lines of both sides), speaks by sampling words, and its lines are parsed back to
acts; a line that does not parse to a legal act becomes `inform` (a wasted message). `train_rl` runs
REINFORCE on the word log-probabilities against a frozen act-level partner, with no supervised
interleaving: the setting in which Lewis et al. and He et al. saw the language drift.

Example:
    e2e = EndToEndAgent(env, seed=0).fit(logs)           # logs: self_play_logs(env, scenarios)
    e2e.train_rl(sl_policy.frozen(), scenarios, n=2000)
    print(e2e.parse_rate())                               # legal acts among its lines so far
"""

from __future__ import annotations

import copy
import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from .acts import Act
from .agents import Agent
from .environments import ItemDivision, Observation
from .language import Generator, Parser
from .policies import ItemActions

_TOKEN = re.compile(r"\$?\d[\d,.]*k?|[a-z']+|[^\sa-z0-9]")
SPECIALS = ("<pad>", "<unk>", "<me>", "<them>", "<eos>")
MAX_WORDS = 20


def tokenize(text: str) -> list[str]:
    return _TOKEN.findall(text.lower())


def _context(counts: Sequence[int], values: Sequence[int]) -> list[str]:
    return [f"count{c}" for c in counts] + [f"value{v}" for v in values]


class EndToEndAgent(Agent):
    """Word-level GRU negotiator (items) whose lines go through the act parser."""

    def __init__(self, env: ItemDivision, embedding: int = 32, hidden: int = 64, epochs: int = 3, lr: float = 3e-3,
                 temperature: float = 0.5, seed: int = 0, name: str = "end-to-end") -> None:
        if not isinstance(env, ItemDivision):
            raise ValueError("env: the end-to-end agent is implemented for ItemDivision")
        self.env, self.embedding, self.hidden, self.epochs, self.lr = env, embedding, hidden, epochs, lr
        self.temperature, self.seed, self.name = temperature, seed, name
        self.parser = Parser(env)
        self._space = ItemActions()
        self.lines: list[tuple[str, bool]] = []  # every line it wrote and whether it was a legal act
        self.net: Any = None

    # ---- data
    def _dialogue_tokens(self, dialogue: Any, seat: int, generator: Generator) -> tuple[list[str], list[bool]]:
        """Tokens of one dialogue from `seat`'s view, and which of them are its own words (the targets)."""
        tokens = _context(dialogue.scenario.counts, dialogue.scenario.values[seat])
        own = [False] * len(tokens)
        for turn in dialogue.turns:
            words = tokenize(generator.render(turn.act)) + ["<eos>"]
            tokens.append("<me>" if turn.speaker == seat else "<them>")
            own.append(False)
            tokens += words
            own += [turn.speaker == seat] * len(words)
        return tokens, own

    def fit(self, logs: Sequence[Any]) -> EndToEndAgent:
        """Train the language model on both sides' view of every dialogue in `logs`."""
        import torch
        from torch import nn

        generator = Generator(self.env, self.seed)
        sequences = [self._dialogue_tokens(d, seat, generator) for d in logs for seat in (0, 1)]
        vocabulary = sorted({t for tokens, _ in sequences for t in tokens} - set(SPECIALS))
        vocabulary += [f"count{c}" for c in range(5)] + [f"value{v}" for v in range(11)]
        self.vocab = list(SPECIALS) + sorted(set(vocabulary))
        self.index = {t: i for i, t in enumerate(self.vocab)}
        torch.manual_seed(self.seed)
        self.net = _word_model(len(self.vocab), self.embedding, self.hidden)
        opt = torch.optim.Adam(self.net.parameters(), lr=self.lr)
        g = torch.Generator().manual_seed(self.seed)
        encoded = [torch.tensor([self.index[t] for t in tokens]) for tokens, _ in sequences]
        self.history: list[float] = []
        for _ in range(self.epochs):
            total, batches = 0.0, 0
            for chunk in torch.randperm(len(encoded), generator=g).split(64):
                batch = nn.utils.rnn.pad_sequence([encoded[i] for i in chunk], batch_first=True)
                logits, _ = self.net(batch[:, :-1])
                loss = nn.functional.cross_entropy(logits.reshape(-1, len(self.vocab)), batch[:, 1:].reshape(-1),
                                                   ignore_index=0)
                opt.zero_grad()
                loss.backward()
                opt.step()
                total, batches = total + float(loss.detach()), batches + 1
            self.history.append(total / batches)
        self.net.eval()
        return self

    # ---- speaking
    def reset(self, role: int, private: Any, seed: int | None = None) -> None:
        import torch

        super().reset(role, private, seed)
        self._generator = Generator(self.env, 0 if seed is None else seed)
        self._torch_rng = torch.Generator().manual_seed(0 if seed is None else int(seed))
        self._turns: list[tuple[list[int], bool]] = []  # token ids of every turn so far, and whether its own
        self._context: list[int] = []

    def _catch_up(self, obs: Observation) -> None:
        """Tokens for the partner's turns since this agent last spoke (rendered once, then kept)."""
        if not self._context:
            self._context = [self.index.get(t, 1) for t in _context(obs.public, obs.private)]
        for turn in obs.history[len(self._turns):]:
            words = ["<them>", *tokenize(self._generator.render(turn.act)), "<eos>"]
            self._turns.append(([self.index.get(t, 1) for t in words], False))

    def act(self, obs: Observation) -> Act:
        import torch

        if self.net is None:
            raise ValueError("EndToEndAgent: call fit(logs) before playing")
        self._catch_up(obs)
        prefix = self._context + [t for ids, _ in self._turns for t in ids] + [self.index["<me>"]]
        with torch.no_grad():
            logits, state = self.net(torch.tensor([prefix]))
            words: list[int] = []
            step = logits[0, -1]
            for _ in range(MAX_WORDS):
                step = step.clone()
                step[:2] = float("-inf")  # never <pad> or <unk>
                word = int(torch.multinomial(torch.softmax(step / self.temperature, dim=0), 1,
                                             generator=self._torch_rng))
                words.append(word)
                if self.vocab[word] == "<eos>":
                    break
                out, state = self.net(torch.tensor([[word]]), state)
                step = out[0, -1]
        if self.vocab[words[-1]] != "<eos>":
            words.append(self.index["<eos>"])
        self._turns.append(([self.index["<me>"], *words], True))
        text = " ".join(self.vocab[w] for w in words[:-1])
        act, understood = self.parser.read(text, obs)
        legal = understood and self._legal(act, obs)
        self.lines.append((text, legal))
        return act if legal else Act("inform")

    def _legal(self, act: Act, obs: Observation) -> bool:
        if act.intent in ("reject", "inform"):
            return True
        try:
            index = self._space.encode(act, obs)
        except ValueError:  # a share beyond the 5x5x5 grid
            return False
        return index is not None and bool(self._space.mask(obs)[index])

    def parse_rate(self, since: int = 0) -> float:
        """The share of its lines (from line `since` on) that parsed to a legal act."""
        lines = self.lines[since:]
        return float(np.mean([ok for _, ok in lines])) if lines else float("nan")

    def clone(self) -> EndToEndAgent:
        twin = copy.copy(self)
        twin.lines = self.lines  # one record of lines across the copies that play
        return twin

    # ---- RL on words
    def train_rl(self, partner: Agent, scenarios: Sequence[Any], n: int, lr: float = 1e-3, seed: int = 0) -> dict:
        """REINFORCE on the log-probabilities of its own words, reward = own score minus the running mean,
        no supervised batches. Returns the legal-act parse rate of its lines before and after."""
        import torch

        from .arena import play

        rng = np.random.default_rng(seed)
        opt = torch.optim.Adam(self.net.parameters(), lr=lr)
        rewards: list[float] = []
        for _ in range(n):
            scenario = scenarios[int(rng.integers(len(scenarios)))]
            seat = int(rng.integers(2))
            me = self.clone()
            pair = (me, partner) if seat == 0 else (partner, me)
            d = play(*pair, scenario, seed=int(rng.integers(2**31)), env=self.env)
            reward = d.scores[seat]
            advantage = reward - (np.mean(rewards) if rewards else 0.0)
            rewards.append(reward)
            if not any(mine for _, mine in me._turns):
                continue
            self.net.train()
            loss = -advantage * self._own_log_prob(me)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(self.net.parameters(), 1.0)
            opt.step()
        self.net.eval()
        return {"dialogues": n, "mean_reward": float(np.mean(rewards))}

    def _own_log_prob(self, player: EndToEndAgent) -> Any:
        """Sum of log p(word) over the words `player` (a copy that just played) wrote, given the text
        before each of them, exactly as it saw it."""
        import torch

        ids = list(player._context)
        own = [False] * len(ids)
        last = max(i for i, (_, mine) in enumerate(player._turns) if mine)
        for tokens, mine in player._turns[:last + 1]:
            ids += tokens
            own += [False] + [mine] * (len(tokens) - 1)  # the speaker tag is given, the words are chosen
        x = torch.tensor([ids])
        logits, _ = self.net(x[:, :-1])
        logp = torch.log_softmax(logits / self.temperature, dim=-1)[0]
        chosen = logp.gather(1, x[0, 1:, None]).squeeze(1)
        return (chosen * torch.tensor(own[1:])).sum()


def _word_model(vocab: int, embedding: int, hidden: int) -> Any:
    """Embedding -> GRU -> vocabulary logits."""
    from torch import nn

    class WordModel(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed = nn.Embedding(vocab, embedding, padding_idx=0)
            self.gru = nn.GRU(embedding, hidden, batch_first=True)
            self.out = nn.Linear(hidden, vocab)

        def forward(self, x: Any, state: Any = None) -> tuple[Any, Any]:
            h, state = self.gru(self.embed(x), state)
            return self.out(h), state

    return WordModel()
