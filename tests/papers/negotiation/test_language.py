import pytest

from paperzoo.papers.negotiation import (
    Act,
    Generator,
    ItemDivision,
    Observation,
    Parser,
    PriceBargain,
    paraphrase_accuracy,
    round_trip,
)
from paperzoo.papers.negotiation.language import _ITEM_TEMPLATES, ITEM_PARAPHRASES, ITEM_PARAPHRASES_DEV


@pytest.mark.parametrize("env", [ItemDivision(), PriceBargain()], ids=["items", "price"])
def test_round_trip_of_1000_acts_is_exact(env):
    result = round_trip(env, n=1000, seed=0)
    assert result["rate"] == 1.0, result["failures"]
    texts = {Generator(env, seed=s).render(Act("quit")) for s in range(30)}
    assert len(texts) >= 3  # several templates per intent


def test_development_paraphrases_all_parse_and_held_out_ones_are_separate():
    for env in (ItemDivision(), PriceBargain()):
        dev = paraphrase_accuracy(env, n_draws=3, seed=1, held_out=False)
        assert dev["accuracy"] == 1.0, dev["failures"]
        held = paraphrase_accuracy(env, n_draws=1, seed=1)
        assert 0 <= held["accuracy"] <= 1 and held["n"] >= 20
    templates = {t for group in _ITEM_TEMPLATES.values() for t in group}
    assert not {t for t, _ in ITEM_PARAPHRASES + ITEM_PARAPHRASES_DEV} & templates


def _obs(counts=(1, 2, 3), can_accept=False, partner=None):
    return Observation(0, "A", counts, (4, 0, 2), 0, 10, (), partner, None, can_accept)


@pytest.mark.parametrize("text, share", [
    ("I take 2 books and no hats", (2, 0, 0)),
    ("i'll take the books, you get the rest", (1, 0, 0)),
    ("you get the hats, I keep everything else", (1, 0, 3)),
    ("give me two balls and a hat", (0, 1, 2)),
    ("3 balls for me, the rest for you", (0, 0, 3)),
    ("You can have 1 hat, I take the rest", (1, 1, 3)),
    ("I take nothing", (0, 0, 0)),
])
def test_item_proposals_in_several_phrasings(text, share):
    act, understood = Parser(ItemDivision()).read(text, _obs())
    assert understood and act == Act("propose", offer=share)


@pytest.mark.parametrize("text, intent", [
    ("deal", "accept"), ("ok", "accept"), ("Sure!", "accept"), ("no", "reject"), ("No, thanks.", "reject"),
    ("bye", "quit"), ("I walk away", "quit"), ("no deal, bye", "quit"), ("the hats matter to me", "inform"),
])
def test_item_intents(text, intent):
    assert Parser(ItemDivision()).parse(text) == Act(intent)


@pytest.mark.parametrize("text", ["", "   ", "asdf qwerty", "42", "\x00\x01", "!!!"])
def test_garbage_reads_as_inform_not_understood(text):
    act, understood = Parser(ItemDivision()).read(text)
    assert act == Act("inform") and not understood


@pytest.mark.parametrize("text, price", [
    ("how about $1,200?", 1200), ("could you do 1.2k?", 1200), ("120 bucks?", 120), ("what about $99.50", 99.5),
    ("meet me at 45 dollars?", 45),
])
def test_prices_in_several_formats(text, price):
    assert Parser(PriceBargain()).parse(text) == Act("counter-price", price=price)


def test_price_intents_and_context():
    parser = Parser(PriceBargain())
    assert parser.parse("my final offer is $300") == Act("offer", price=300)
    assert parser.parse("I'm sticking with $300") == Act("insist", price=300)
    assert parser.parse("I've had it for 2 years") == Act("inform")  # "2 years" is not a price
    listing_obs = Observation(1, "buyer", None, {"target": 70, "bottom": 90}, 3, 20, (), 95.0, 80.0, False)
    assert parser.parse("deal", listing_obs) == Act("offer", price=95)  # no formal offer yet: offer theirs
    pending = Observation(1, "buyer", None, {"target": 70, "bottom": 90}, 3, 20, (), 95.0, 80.0, True)
    assert parser.parse("deal", pending) == Act("accept")
    assert parser.read("hmm", pending) == (Act("inform"), False)
    with pytest.raises(TypeError, match="text must be a string"):
        parser.read(None)
