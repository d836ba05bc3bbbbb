"""The act layer's text side: a seeded template generator and a regex/keyword parser.

`Generator(env, seed).render(act)` picks one of several templates per intent; `Parser(env).read(text,
obs)` returns the act a line means and whether it understood it (unparseable text reads as `inform`,
understood=False, and the chat asks again). With the observation of the speaker the parser also reads
"you get ..." phrasings, "all the books", "the rest", and a "deal" said when no formal offer stands
(price: an offer at the partner's price). `PARAPHRASES` are phrasings the generator never uses, to
measure the parser on text it was not built from.

Example:
    >>> from paperzoo.papers.negotiation import ItemDivision, Act, Generator, Parser
    >>> env = ItemDivision()
    >>> text = Generator(env, seed=0).render(Act("propose", offer=(2, 0, 1)))
    >>> Parser(env).parse(text)
    Act(intent='propose', offer=(2, 0, 1), price=None)
    >>> Parser(env).parse("ok deal")
    Act(intent='accept', offer=None, price=None)
"""

from __future__ import annotations

import random
import re
from typing import Any

from .acts import PRICED_INTENTS, Act
from .environments import ITEM_NAMES, Observation

# ---------------------------------------------------------------- generation

_ITEM_TEMPLATES = {
    "propose": ("I take {all}.", "How about I get {some}?", "Give me {some} and you keep the rest.",
                "I'd like {some}; the rest is yours.", "Let me have {some}, you get everything else."),
    "accept": ("Deal.", "I accept.", "Okay, you have a deal.", "Sure, that works for me."),
    "reject": ("No, I can't accept that.", "No.", "That won't work for me, no.", "I reject that."),
    "quit": ("I'm walking away, no deal.", "Bye.", "Forget it, I'm out. Bye."),
    "inform": ("The {item}s matter most to me.", "I care a lot about the {item}s.",
               "Let's find something that works for both of us.", "Think about what you value most."),
}
_PRICE_TEMPLATES = {
    "intro": ("Hi there!", "Hello, thanks for getting in touch.", "Hey, good to hear from you."),
    "init-price": ("My price is {p}.", "I'm thinking {p}.", "I'd say {p} is the right price."),
    "counter-price": ("How about {p}?", "Could you do {p}?", "What about {p} instead?", "Meet me at {p}?"),
    "vague-price": ("Can you do better than that?", "You'll have to do better on the price.",
                    "Can you come closer on the price?"),
    "inquiry": ("What condition is it in?", "Why are you selling it?", "How old is it?", "Is there any damage?"),
    "inform": ("It's in great condition.", "It's barely used.", "I've had it for a couple of years.",
               "I can pick it up this week."),
    "agree": ("That sounds fair.", "I agree.", "Fair enough."),
    "disagree": ("I don't think so.", "That doesn't work for me.", "That's not reasonable."),
    "insist": ("I'm sticking with {p}.", "I can't move from {p}.", "Still {p}, that's firm."),
    "offer": ("I offer {p}, final offer.", "My final offer is {p}.", "Final offer: {p}."),
    "accept": ("Deal.", "I accept your offer.", "You've got a deal."),
    "reject": ("No, I reject that offer.", "I can't accept that offer.", "No thanks, I reject it."),
    "quit": ("I'm walking away.", "Bye, no deal.", "Forget it, I'm out."),
}
_NUMBER_WORDS = ("zero", "one", "two", "three", "four")


def _plural(n: int, item: str) -> str:
    return item if n == 1 else item + "s"


def format_price(price: float, style: int = 0) -> str:
    """`$1,200`, `1.2k`, `1200 bucks` or `$1200`, by `style` (0-3)."""
    whole = float(price).is_integer()
    amount = f"{price:,.0f}" if whole else f"{price:,.2f}"
    if style == 1 and whole and price >= 1000 and price % 100 == 0:
        return f"{price / 1000:g}k"
    if style == 2:
        return f"{amount.replace(',', '')} bucks"
    if style == 3:
        return "$" + amount.replace(",", "")
    return "$" + amount


class Generator:
    """Renders acts as text with 3-6 seeded templates per intent."""

    def __init__(self, env: Any, seed: int = 0) -> None:
        self.env_name = env.name
        self.rng = random.Random(seed)
        self.templates = _ITEM_TEMPLATES if env.name == "items" else _PRICE_TEMPLATES

    def render(self, act: Act) -> str:
        if act.intent not in self.templates:
            raise ValueError(f"act: intent {act.intent!r} does not exist in the {self.env_name} environment")
        template = self.rng.choice(self.templates[act.intent])
        if act.offer is not None:
            return template.format(all=self._items(act.offer, zeros=True), some=self._items(act.offer, zeros=False))
        if act.price is not None:
            return template.format(p=format_price(act.price, self.rng.randrange(4)))
        return template.format(item=self.rng.choice(ITEM_NAMES))

    def _items(self, share: tuple[int, ...], zeros: bool) -> str:
        parts = []
        for n, item in zip(share, ITEM_NAMES, strict=True):
            if n or zeros:
                number = _NUMBER_WORDS[n] if self.rng.random() < 0.3 and n < len(_NUMBER_WORDS) else str(n)
                parts.append(f"{number} {_plural(n, item)}")
        if not parts:
            return "nothing"
        return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


# ---------------------------------------------------------------- parsing

_WORD_NUMBERS = {"no": 0, "zero": 0, "none": 0, "a": 1, "an": 1, "one": 1, "single": 1, "two": 2, "both": 2,
                 "three": 3, "four": 4}
_ITEM_RE = r"(books?|hats?|balls?)"
_QTY_RE = re.compile(r"\b(\d+|no|zero|none|an?|one|single|two|both|three|four|all(?: the| of the)?|every|the)\s+"
                     + _ITEM_RE + r"\b")
_ME = re.compile(r"\b(i(?:'ll| will|'d| would)? (?:take|get|want|keep|have|like|need)|give me|gimme|let me have|"
                 r"i(?:'ll| will)? (?:grab|go with)|for me|mine|me:)\b")
_YOU = re.compile(r"\b(you(?:'ll| can| could| will)? (?:get|take|keep|have)|give you|for you|yours|you:)\b")
_REST = re.compile(r"\b(the rest|everything else|all else|the others|what's left|whatever is left|the remaining)\b")
_TRAILING_ME = re.compile(r"^\W*(?:for me|is mine|are mine|to me)\b")
_TRAILING_YOU = re.compile(r"^\W*(?:for you|is yours|are yours|to you)\b")
_NOTHING = re.compile(r"\bnothing\b")
_EXCEPT = re.compile(r"\b(except|but not|apart from|other than)\b")
_EVERYTHING = re.compile(r"\b(everything|all of it|it all)\b")

_QUIT = re.compile(r"\b(bye|goodbye|walk(?:ing)? away|i'?m out|i am out|no deal|forget it|i quit|quit|give up|"
                   r"leaving)\b")
# A bare "no" rejects ("No.", "no, ..."), "no scratches" does not.
_REJECT = re.compile(r"(?:^|\W)no(?=\W*$|\s*[,.!;])|\b(nope|nah|no way|no thanks|not happening|not a chance|"
                     r"reject|rejected|(?:can't|cannot|can not|won't|don't|not) accept|won't work|not acceptable|"
                     r"decline|refuse)\b")
_ACCEPT = re.compile(r"\b(deal|ok|okay|sure|accept|accepted|yes|yeah|yep|fine|works for me|it's a deal|"
                     r"you've got a deal|alright|done)\b")
_AGREED = re.compile(r"\bagree(?:d)?\b")
_ITEM_INFORM = re.compile(r"\b(matter|care|value|worth|important|need|like|love|prefer|useless|want)\b|"
                          r"\b(books?|hats?|balls?)\b|both of us")

_PRICE_RE = re.compile(
    r"(?:\$\s?(?P<a>\d[\d,]*(?:\.\d+)?)\s*(?P<ak>k\b)?)"
    r"|(?:\b(?P<b>\d[\d,]*(?:\.\d+)?)\s*(?:(?P<bk>k)\b|\s*(?:bucks|dollars|usd)\b))"
    r"|(?:\b(?P<c>\d[\d,]*(?:\.\d+)?)\b(?!\s*(?:years?|months?|weeks?|days?|miles?|km|inch|inches|%|"
    r"people|times|owners?|hours?|minutes?|mins?|bedrooms?|br|gb|tb)\b))")
_OFFER = re.compile(r"\b(final|i offer|my offer is|formal offer|offer:|i'll offer|i will offer)\b")
_INSIST = re.compile(r"\b(sticking|stick with|firm|can't move|cannot move|won't move|not moving|still|not budging|"
                     r"i said|as i said|told you|won't go|not going|not a (?:penny|cent|dollar)|non-negotiable)\b")
_COUNTER = re.compile(r"\?|\b(how about|what about|could you|can you|would you|will you|meet|instead|do you take|"
                      r"take|counter)\b")
_INIT = re.compile(r"\b(my price|asking|i'm thinking|i am thinking|i'd say|listed|price is|i can pay|i'll pay|"
                   r"willing to pay|budget)\b")
_DISAGREE = re.compile(r"\b(don't think so|doesn't work|does not work|not reasonable|disagree|no way|ridiculous|"
                       r"unreasonable|not fair|too (?:low|high|much|little))\b")
_VAGUE = re.compile(r"\b(do better|go (?:lower|higher|down|up)|come (?:down|up|closer)|closer|lower|higher|cheaper|"
                    r"flexible|budge|wiggle|discount|better price)\b")
_AGREE = re.compile(r"\b(agree|fair enough|sounds (?:fair|good|reasonable|right)|that's fair|reasonable|makes sense|"
                    r"i see)\b")
_INTRO = re.compile(r"^\W*(hi|hello|hey|good (?:morning|afternoon|evening)|greetings|howdy)\b")
_INQUIRY = re.compile(r"\?|\b(what|why|how|when|where|does it|is it|is there|are there|any)\b")
_PRICE_INFORM = re.compile(r"\b(condition|used|new|shape|years?|months?|old|works|working|scratch\w*|damage\w*|"
                           r"mileage|original|pick it up|pick up|deliver\w*|cash|because|moving|owned|warranty|"
                           r"barely|great|clean|comes with|need)\b")


def _number(text: str) -> float:
    return float(text.replace(",", ""))


class Parser:
    """Reads a line of text back into an act of the environment `env`."""

    def __init__(self, env: Any) -> None:
        self.env_name = env.name

    def parse(self, text: str, obs: Observation | None = None) -> Act:
        return self.read(text, obs)[0]

    def read(self, text: str, obs: Observation | None = None) -> tuple[Act, bool]:
        """(act, understood). `obs` is the speaker's observation (counts, standing offers), or None."""
        if not isinstance(text, str):
            raise TypeError(f"text must be a string, got {type(text).__name__}")
        line = " ".join(text.lower().replace("’", "'").split())
        if not line:
            return Act("inform"), False
        act = self._items(line, obs) if self.env_name == "items" else self._price(line, obs)
        return (act, True) if act is not None else (Act("inform"), False)

    # ---- items
    def _items(self, line: str, obs: Observation | None) -> Act | None:
        if _QUIT.search(line):
            return Act("quit")
        offer = self._division(line, None if obs is None else tuple(obs.public))
        if offer is not None:
            return Act("propose", offer=offer)
        if _REJECT.search(line):
            return Act("reject")
        if _ACCEPT.search(line) or _AGREED.search(line):
            return Act("accept")
        if _ITEM_INFORM.search(line):
            return Act("inform")
        return None

    def _division(self, line: str, counts: tuple[int, ...] | None) -> tuple[int, ...] | None:
        """The speaker's own share of each item type, or None when the line states no division."""
        markers = sorted([(m.start(), m.end(), "me") for m in _ME.finditer(line)]
                         + [(m.start(), m.end(), "you") for m in _YOU.finditer(line)])
        mentions = list(_QTY_RE.finditer(line))
        rests = list(_REST.finditer(line))
        nothing, everything = list(_NOTHING.finditer(line)), list(_EVERYTHING.finditer(line))
        if not mentions and not (markers and (nothing or everything)):
            return None
        trailing = any(_TRAILING_ME.match(line[m.end():]) or _TRAILING_YOU.match(line[m.end():]) for m in mentions)
        if not markers and not trailing and not any(m.group(1) not in ("the", "a", "an") for m in mentions):
            return None  # "the books matter to me" names items but divides nothing

        def side_at(position: int, end: int) -> str | None:
            after = line[end:]
            if _TRAILING_ME.match(after):
                return "me"
            if _TRAILING_YOU.match(after):
                return "you"
            before = [(stop, side) for start, stop, side in markers if start < position]
            if not before:
                return None
            stop, side = before[-1]
            if _EXCEPT.search(line[stop:position]):  # "you can have everything except the books"
                return "me" if side == "you" else "you"
            return side

        assigned: dict[str, dict[int, int | str]] = {"me": {}, "you": {}}
        pending = []
        for m in mentions:
            word, item = m.group(1), ITEM_NAMES.index(m.group(2).rstrip("s"))
            plural = m.group(2).endswith("s")
            if word.isdigit():
                qty: int | str = int(word)
            elif word.startswith("all") or word == "every" or (word == "the" and plural):
                qty = "all"
            elif word == "the":
                qty = 1
            else:
                qty = _WORD_NUMBERS[word]
            side = side_at(m.start(), m.end())
            if side is None:
                pending.append((item, qty))
            else:
                assigned[side][item] = qty
        # Mentions before any marker belong to the first marker that follows ("2 books for me" is trailing).
        first_side = markers[0][2] if markers else "me"
        for item, qty in pending:
            assigned[first_side].setdefault(item, qty)
        rest_side = None
        for m in rests:
            rest_side = side_at(m.start(), m.end()) or rest_side
        for m in nothing:
            side = side_at(m.start(), m.end())
            if side is not None:
                rest_side = "you" if side == "me" else "me"
        for m in everything:
            side = side_at(m.start(), m.end())
            if side is not None and not any(side_at(r.start(), r.end()) for r in rests):
                rest_side = side
        if rest_side is None:
            rest_side = "you" if assigned["me"] else "me"
        share = []
        for item in range(len(ITEM_NAMES)):
            count = counts[item] if counts else None
            if item in assigned["me"]:
                qty = assigned["me"][item]
            elif item in assigned["you"]:
                theirs = assigned["you"][item]
                if count is None:
                    return None
                qty = count - (count if theirs == "all" else theirs)
            else:
                qty = "all" if rest_side == "me" else 0
            if qty == "all":
                if count is None:
                    return None
                qty = count
            share.append(int(qty))
        return tuple(share)

    # ---- prices
    def _price(self, line: str, obs: Observation | None) -> Act | None:
        if _QUIT.search(line):
            return Act("quit")
        pending = obs is not None and obs.can_accept
        partner_price = None if obs is None else obs.partner_offer
        price = self._amount(line)
        if price is not None:
            if _ACCEPT.search(line) and pending and abs(price - partner_price) < 0.5:
                return Act("accept")
            if _OFFER.search(line) or (_ACCEPT.search(line) and not _REJECT.search(line)):
                return Act("offer", price=price)
            if _INSIST.search(line):
                return Act("insist", price=price)
            if _INIT.search(line):
                return Act("init-price", price=price)
            if _COUNTER.search(line) or (obs is not None and partner_price is not None):
                return Act("counter-price", price=price)
            return Act("init-price", price=price)
        if _REJECT.search(line) and not _DISAGREE.search(line):
            return Act("reject")
        if _ACCEPT.search(line):
            if obs is not None and not pending and partner_price is not None:
                return Act("offer", price=float(partner_price))  # "deal" to a named price: offer it formally
            return Act("accept")
        for pattern, intent in ((_DISAGREE, "disagree"), (_VAGUE, "vague-price"), (_AGREE, "agree"),
                                (_INTRO, "intro"), (_INQUIRY, "inquiry"), (_PRICE_INFORM, "inform")):
            if pattern.search(line):
                return Act(intent)
        return None

    @staticmethod
    def _amount(line: str) -> float | None:
        for m in _PRICE_RE.finditer(line):
            if m.group("a"):
                value, k = _number(m.group("a")), m.group("ak")
            elif m.group("b"):
                value, k = _number(m.group("b")), m.group("bk")
            else:
                value, k = _number(m.group("c")), None
            value = value * 1000 if k else value
            if value > 0:
                return value
        return None


# ---------------------------------------------------------------- paraphrases
# Phrasings a person might type, none of them a generator template. `{b}`, `{h}`, `{l}` are a number
# of books/hats/balls ("2 books"), `{p}` a price. Each entry: (template, what it means). The parser was
# developed on the *_DEV lists; the held-out lists (ITEM_PARAPHRASES, PRICE_PARAPHRASES) were written
# before that and are only measured.

ITEM_PARAPHRASES_DEV = (  # meaning: the speaker's own share per type: a sampled number, "all", "0" or "-n" (count − n)
    ("gimme {b} and {h}, you can have the balls", ("b", "h", "0")),
    ("i'll take {b}, {h} and {l}", ("b", "h", "l")),
    ("{b} and {l} for me, the rest for you", ("b", "0", "l")),
    ("you get the hats, i keep everything else", ("all", "0", "all")),
    ("i want all the books, you can have the rest", ("all", "0", "0")),
    ("how about you take the balls and i get the rest", ("all", "all", "0")),
    ("you can have everything except the books", ("all", "0", "0")),
    ("i need {b} and nothing else", ("b", "0", "0")),
    ("let's split it: i get {h}, you keep the rest", ("0", "h", "0")),
    ("i would like {l} and {b}", ("b", "0", "l")),
    ("give me the hats and you get the books and balls", ("0", "all", "0")),
    ("you take {b}, everything else is mine", ("-b", "all", "all")),
    ("ok deal", "accept"),
    ("sounds good, deal!", "accept"),
    ("alright, i accept", "accept"),
    ("yes, let's do that", "accept"),
    ("fine by me", "accept"),
    ("agreed.", "accept"),
    ("nope", "reject"),
    ("no way, that's not fair", "reject"),
    ("i don't accept that", "reject"),
    ("not happening", "reject"),
    ("i'm done here, goodbye", "quit"),
    ("let's end this, no deal", "quit"),
    ("i give up", "quit"),
    ("books are really important to me", "inform"),
    ("i don't care about the hats", "inform"),
    ("the balls are useless to me", "inform"),
)

PRICE_PARAPHRASES_DEV = (
    ("would you take {p}?", "counter-price"),
    ("{p} is my best and final offer", "offer"),
    ("i'll go {p}, final", "offer"),
    ("it's listed at {p}", "init-price"),
    ("i'm asking {p}", "init-price"),
    ("can you do {p} instead", "counter-price"),
    ("{p}, not a penny less", "insist"),
    ("i told you, {p}", "insist"),
    ("how does {p} sound?", "counter-price"),
    ("i can pay {p} cash", "init-price"),
    ("ok, deal", "accept"),
    ("yes, i accept", "accept"),
    ("sure thing", "accept"),
    ("no, i can't accept", "reject"),
    ("nope, i decline", "reject"),
    ("i'm leaving, bye", "quit"),
    ("forget it, no deal", "quit"),
    ("any chance you could go lower?", "vague-price"),
    ("that's way too much", "disagree"),
    ("is the price flexible at all", "vague-price"),
    ("you're being unreasonable", "disagree"),
    ("fair enough, i see your point", "agree"),
    ("that sounds reasonable", "agree"),
    ("hello! is this still available", "intro"),
    ("hey there", "intro"),
    ("how many owners has it had?", "inquiry"),
    ("does it come with a charger?", "inquiry"),
    ("it works perfectly, no scratches", "inform"),
    ("i've only used it twice", "inform"),
    ("i need it by friday", "inform"),
)


ITEM_PARAPHRASES = (
    ("can i have {b} and {l}? the rest goes to you", ("b", "0", "l")),
    ("my proposal: {b} for me, you keep all the hats and balls", ("b", "0", "0")),
    ("you keep the books, i'll have the hats and the balls", ("0", "all", "all")),
    ("i'm happy with just {l}", ("0", "0", "l")),
    ("what if i get {b} and you get the rest", ("b", "0", "0")),
    ("you have {h} and i take everything else", ("all", "-h", "all")),
    ("i'll grab {b}, you take the rest", ("b", "0", "0")),
    ("i only want {l}", ("0", "0", "l")),
    ("let me keep {h}; all the rest is yours", ("0", "h", "0")),
    ("deal, let's do it", "accept"),
    ("okay, you win", "accept"),
    ("yep, that works", "accept"),
    ("that's acceptable", "accept"),
    ("i can live with that", "accept"),
    ("no, i want more", "reject"),
    ("nah", "reject"),
    ("that's not acceptable", "reject"),
    ("i refuse", "reject"),
    ("bye bye", "quit"),
    ("i'm walking, no deal", "quit"),
    ("this isn't going anywhere, i quit", "quit"),
    ("the hats are worthless to me", "inform"),
    ("i really value the books", "inform"),
    ("balls mean a lot to me", "inform"),
)

PRICE_PARAPHRASES = (
    ("would {p} work for you?", "counter-price"),
    ("how about we meet in the middle at {p}", "counter-price"),
    ("the price is {p}, as listed", "init-price"),
    ("i'm willing to pay {p}", "init-price"),
    ("final answer: {p}", "offer"),
    ("my final price is {p}", "offer"),
    ("i'll stick to {p}", "insist"),
    ("like i said, {p}", "insist"),
    ("deal, sold", "accept"),
    ("i accept", "accept"),
    ("sounds good, deal", "accept"),
    ("no, i reject", "reject"),
    ("i won't accept that offer", "reject"),
    ("goodbye", "quit"),
    ("i'm walking away from this", "quit"),
    ("can you lower the price a bit?", "vague-price"),
    ("you need to come down", "vague-price"),
    ("that's too low", "disagree"),
    ("i disagree", "disagree"),
    ("i agree, that's fair", "agree"),
    ("makes sense", "agree"),
    ("hi! i'm interested in your listing", "intro"),
    ("good morning", "intro"),
    ("why do you want to sell?", "inquiry"),
    ("is it still under warranty?", "inquiry"),
    ("it's brand new, never opened", "inform"),
    ("i'm moving next week so it has to go", "inform"),
)


def _sample_act(env: Any, rng: random.Random) -> Act:
    """A random act of `env` with a random division of a sampled scenario, or a random price."""
    import numpy as np

    intent = rng.choice(env.intents)
    if intent == "propose":
        counts = env.sample(np.random.default_rng(rng.randrange(2**31))).counts
        return Act("propose", offer=tuple(rng.randint(0, c) for c in counts))
    if intent in PRICED_INTENTS:
        amounts = (rng.randint(5, 99), rng.randint(1, 250) * 10, rng.randint(1, 40) * 500)
        return Act(intent, price=float(rng.choice(amounts)))
    return Act(intent)


def round_trip(env: Any, n: int = 1000, seed: int = 0) -> dict[str, Any]:
    """parse(render(a)) == a on `n` random acts; returns the rate and the first failures."""
    rng, generator, parser = random.Random(seed), Generator(env, seed), Parser(env)
    failures = []
    for _ in range(n):
        act = _sample_act(env, rng)
        text = generator.render(act)
        got = parser.parse(text)
        if got != act:
            failures.append({"act": str(act), "text": text, "parsed": str(got)})
    return {"n": n, "rate": 1 - len(failures) / n, "failures": failures[:10]}


def paraphrase_accuracy(env: Any, n_draws: int = 5, seed: int = 0, held_out: bool = True) -> dict[str, Any]:
    """Parser accuracy on the held-out paraphrases (or the development ones), each filled in `n_draws`
    times (items: quantities drawn within sampled counts, parsed with the speaker's observation;
    prices: sampled amounts, parsed without context)."""
    import numpy as np

    from .environments import Observation

    rng = random.Random(seed)
    parser = Parser(env)
    failures, total = [], 0
    if env.name == "items":
        table = ITEM_PARAPHRASES if held_out else ITEM_PARAPHRASES_DEV
    else:
        table = PRICE_PARAPHRASES if held_out else PRICE_PARAPHRASES_DEV
    for template, meaning in table:
        for _ in range(n_draws):
            total += 1
            if env.name == "items":
                counts = env.sample(np.random.default_rng(rng.randrange(2**31))).counts
                qty = {key: rng.randint(1, c) for key, c in zip("bhl", counts, strict=True)}
                words = {key: f"{qty[key]} {_plural(qty[key], item)}"
                         for key, item in zip("bhl", ITEM_NAMES, strict=True)}
                text = template.format(**words)
                obs = Observation(0, "A", counts, (0, 0, 0), 0, 10, (), None, None, False)
                if isinstance(meaning, tuple):
                    share = [c if m == "all" else 0 if m == "0" else c - qty[m[1]] if m.startswith("-") else qty[m]
                             for m, c in zip(meaning, counts, strict=True)]
                    expected = Act("propose", offer=tuple(share))
                else:
                    expected = Act(meaning)
            else:
                price = float(rng.randint(2, 300) * 10)
                text = template.format(p=format_price(price, rng.randrange(4)))
                obs = None
                expected = Act(meaning, price=price if meaning in PRICED_INTENTS else None)
            got, understood = parser.read(text, obs)
            if not understood or got != expected:
                failures.append({"text": text, "expected": str(expected), "parsed": str(got) if understood else "?"})
    return {"n": total, "accuracy": 1 - len(failures) / total, "failures": failures}
