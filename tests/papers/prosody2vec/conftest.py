import pytest

from paperzoo.papers.prosody2vec.corpus import espeak_available, synth_emotional_corpus


@pytest.fixture(scope="session")
def small_corpus(tmp_path_factory):
    """3 voices (1 held out) × 4 emotions × 2 sentences, synthesised once per test session."""
    if not espeak_available():
        pytest.skip("espeak-ng is not installed")
    return synth_emotional_corpus(n_voices=3, n_sentences=2, intensity=1.0, seed=3, n_test_voices=1,
                                  cache_dir=tmp_path_factory.mktemp("wavs"))
