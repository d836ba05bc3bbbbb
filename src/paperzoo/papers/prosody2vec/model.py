"""Prosody2Vec: reconstruct the log-mel from content units, a speaker embedding and a narrow prosody code.

Prosody encoder (trainable): normalised 80-bin log-mel → 2 × Conv1d(k5, 128, stride 2) + ReLU → BiGRU(64) →
attentive pooling → Linear to `d_prosody` (the bottleneck), Gaussian noise σ = 0.1 in training and an L2
penalty on z. Decoder (ours, non-autoregressive for CPU; the paper's is autoregressive with attention):
unit embedding 64 ⊕ Linear(speaker)→64 ⊕ z per unit → 2 × Conv1d(k3, 128) → duration head (log run
length) → length regulator (true run lengths in training, rounded predictions at inference) → pairs of
frames averaged, ⊕ z again (ours) → BiGRU(128) → Linear to 2 × 80 (reduction factor 2, as in Tacotron:
half the sequential steps on CPU). `prosody="none"` drops z: the ablation that shows what reconstruction needs z for.

Example:
    >>> model = Prosody2Vec(n_units=50, d_prosody=16)
    >>> sum(p.numel() for p in model.parameters()) > 0
    True
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence, pad_sequence

from .corpus import Utterance, Utterances
from .features import N_MELS, mels

PROSODY_MODES = ("utterance", "none")
REDUCTION = 2  # mel frames per decoder GRU step
SPEAKER_DIM = 256


def length_regulate(hidden: torch.Tensor, durations: torch.Tensor) -> torch.Tensor:
    """Repeat each unit's vector `durations` times: (units, d) → (Σ durations, d)."""
    if hidden.shape[0] != durations.shape[0]:
        raise ValueError(f"durations: {durations.shape[0]} values for {hidden.shape[0]} units")
    if (durations < 0).any():
        raise ValueError("durations must be >= 0")
    return torch.repeat_interleave(hidden, durations.long(), dim=0)


def _run_gru(gru: nn.GRU, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """A (bi)GRU over a padded batch. Packed only without autograd: the backward of a packed GRU spends a
    third of a training step zero-filling slices, and training batches are bucketed by length, so the
    padding the backward direction reads there is a few frames."""
    if torch.is_grad_enabled() or bool((lengths == x.shape[1]).all()):
        return gru(x)[0]
    packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
    out, _ = gru(packed)
    return pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])[0]


def _mask(lengths: torch.Tensor, total: int) -> torch.Tensor:
    return torch.arange(total)[None, :] < lengths[:, None]


class ProsodyEncoder(nn.Module):
    """Utterance-level prosody code z of shape (batch, d_prosody) from a padded normalised log-mel."""

    def __init__(self, d_prosody: int, channels: int = 128, hidden: int = 64) -> None:
        super().__init__()
        self.convs = nn.Sequential(nn.Conv1d(N_MELS, channels, 5, stride=2, padding=2), nn.ReLU(),
                                   nn.Conv1d(channels, channels, 5, stride=2, padding=2), nn.ReLU())
        self.gru = nn.GRU(channels, hidden, batch_first=True, bidirectional=True)
        self.attention = nn.Linear(2 * hidden, 1)
        self.out = nn.Linear(2 * hidden, d_prosody)

    def forward(self, mel: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        h = self.convs((mel * _mask(lengths, mel.shape[1])[..., None]).transpose(1, 2)).transpose(1, 2)
        lengths = (lengths + 3) // 4  # two stride-2 convs: z is utterance-level, so 40 ms GRU steps do
        mask = _mask(lengths, h.shape[1])
        h = _run_gru(self.gru, h, lengths)
        scores = self.attention(h).squeeze(-1).masked_fill(~mask, float("-inf"))
        pooled = (torch.softmax(scores, dim=1)[..., None] * h).sum(1)
        return self.out(pooled)


class Prosody2Vec(nn.Module):
    """Units + speaker embedding + prosody code → log-mel (see the module docstring).

    `embed(utts)` gives the frozen prosody codes (n, d_prosody); `reconstruct` decodes one utterance.
    """

    def __init__(self, n_units: int = 50, d_prosody: int = 16, prosody: str = "utterance", unit_dim: int = 64,
                 channels: int = 128, frame_hidden: int = 128, noise: float = 0.1, speaker_norm: bool = True) -> None:
        super().__init__()
        if not isinstance(n_units, int) or n_units < 2:
            raise ValueError(f"n_units must be an int >= 2, got {n_units!r}")
        if not isinstance(d_prosody, int) or isinstance(d_prosody, bool) or d_prosody < 1:
            raise ValueError(f"d_prosody must be an int >= 1, got {d_prosody!r}")
        if prosody not in PROSODY_MODES:
            raise ValueError(f"prosody must be one of {PROSODY_MODES}, got {prosody!r}")
        self.n_units, self.d_prosody, self.prosody, self.noise = n_units, d_prosody, prosody, noise
        self.speaker_norm = speaker_norm
        self.encoder = ProsodyEncoder(d_prosody) if prosody != "none" else None
        z_dim = d_prosody if self.encoder is not None else 0
        self.unit_embedding = nn.Embedding(n_units, unit_dim)
        self.speaker_proj = nn.Linear(SPEAKER_DIM, unit_dim)
        self.unit_convs = nn.Sequential(nn.Conv1d(2 * unit_dim + z_dim, channels, 3, padding=1), nn.ReLU(),
                                        nn.Conv1d(channels, channels, 3, padding=1), nn.ReLU())
        self.duration = nn.Linear(channels, 1)
        self.frame_gru = nn.GRU(channels + z_dim, frame_hidden, batch_first=True, bidirectional=True)
        self.to_mel = nn.Linear(2 * frame_hidden, REDUCTION * N_MELS)
        self.register_buffer("mel_mean", torch.zeros(N_MELS))
        self.register_buffer("mel_std", torch.ones(N_MELS))

    # ------------------------------------------------------------------ pieces
    def normalise(self, mel: np.ndarray) -> torch.Tensor:
        return (torch.as_tensor(mel) - self.mel_mean) / self.mel_std

    def encoder_input(self, utt: Utterance, speaker: Any = None) -> torch.Tensor:
        """The prosody encoder's input: the log-mel minus its speaker's mean log-mel (`speaker_norm`, ours:
        timbre out, prosody kept as the deviation from the speaker's average), over the training std."""
        mel = mels(Utterances([utt]))[0]
        if not self.speaker_norm:
            return self.normalise(mel)
        speaker = speaker if speaker is not None else getattr(self, "speaker_encoder", None)
        if speaker is None:
            raise ValueError("speaker: a speaker-normalised model needs the SpeakerEncoder it was trained with")
        return (torch.as_tensor(mel) - torch.as_tensor(speaker.mean_mel(utt.speaker))) / self.mel_std

    def denormalise(self, mel: torch.Tensor) -> np.ndarray:
        return (mel * self.mel_std + self.mel_mean).detach().numpy()

    def encode_prosody(self, mel: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor | None:
        return None if self.encoder is None else self.encoder(mel, lengths)

    def unit_states(self, tokens: torch.Tensor, n_tokens: torch.Tensor, speaker: torch.Tensor,
                    z: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-unit hidden states (batch, units, channels) and predicted log durations (batch, units)."""
        parts = [self.unit_embedding(tokens), self.speaker_proj(speaker)[:, None].expand(-1, tokens.shape[1], -1)]
        if z is not None:
            parts.append(z[:, None].expand(-1, tokens.shape[1], -1))
        mask = _mask(n_tokens, tokens.shape[1])[..., None]
        h = self.unit_convs((torch.cat(parts, -1) * mask).transpose(1, 2)).transpose(1, 2) * mask
        return h, self.duration(h).squeeze(-1)

    def decode_frames(self, states: torch.Tensor, n_tokens: torch.Tensor, durations: torch.Tensor,
                      z: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        frames = [length_regulate(states[b, : n_tokens[b]], durations[b, : n_tokens[b]])
                  for b in range(states.shape[0])]
        lengths = torch.tensor([len(f) for f in frames])
        h = pad_sequence(frames, batch_first=True)
        total = h.shape[1]
        h = nn.functional.pad(h, (0, 0, 0, (-total) % REDUCTION))
        h = h.reshape(h.shape[0], -1, REDUCTION, h.shape[-1]).mean(2)  # one GRU step per REDUCTION frames
        if z is not None:  # z again at frame level: a direct path for the utterance's pitch and energy level
            h = torch.cat([h, z[:, None].expand(-1, h.shape[1], -1)], -1)
        h = _run_gru(self.frame_gru, h, (lengths + REDUCTION - 1) // REDUCTION)
        mel = self.to_mel(h).reshape(h.shape[0], -1, N_MELS)[:, :total]
        return mel, lengths

    # ------------------------------------------------------------------ public
    @torch.no_grad()
    def embed(self, utts: Utterances, speaker: Any = None) -> np.ndarray:
        """(n, d_prosody) prosody codes of `utts` (no noise); `speaker` defaults to the training one."""
        if self.encoder is None:
            raise ValueError("this model has no prosody encoder (prosody='none')")
        self.eval()
        out = []
        spectrograms = [self.encoder_input(u, speaker) for u in utts]
        for start in range(0, len(spectrograms), 32):
            chunk = spectrograms[start:start + 32]
            lengths = torch.tensor([len(m) for m in chunk])
            out.append(self.encoder(pad_sequence(chunk, batch_first=True), lengths).numpy())
        return np.concatenate(out)

    @torch.no_grad()
    def synthesize(self, tokens: np.ndarray, speaker: np.ndarray, z: np.ndarray | None,
                   durations: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(log-mel (frames, 80), durations used): predicted durations unless `durations` is given."""
        self.eval()
        t = torch.as_tensor(tokens, dtype=torch.long)[None]
        n = torch.tensor([t.shape[1]])
        zz = None if self.encoder is None or z is None else torch.as_tensor(z, dtype=torch.float32)[None]
        if self.encoder is not None and zz is None:
            raise ValueError("z: this model needs a prosody code")
        states, log_d = self.unit_states(t, n, torch.as_tensor(speaker, dtype=torch.float32)[None], zz)
        if durations is None:
            d = torch.clamp(torch.round(torch.exp(log_d)), min=1).long()
        else:
            d = torch.as_tensor(durations, dtype=torch.long)[None]
        mel, _ = self.decode_frames(states, n, d, zz)
        return self.denormalise(mel[0]), d[0].numpy()


# ---------------------------------------------------------------------------- training
@dataclass
class Example:
    mel: torch.Tensor  # normalised (frames, 80): the target
    encoder_mel: torch.Tensor  # the prosody encoder's input
    tokens: torch.Tensor
    durations: torch.Tensor
    speaker: torch.Tensor


@dataclass
class TrainResult:
    epochs: int
    seconds: float
    losses: list[float] = field(default_factory=list)
    capped: bool = False


def examples(model: Prosody2Vec, utts: Utterances, units: Any, speaker: Any) -> list[Example]:
    """Model inputs of `utts`: normalised mel, unit tokens and run lengths, speaker embedding."""
    spk = speaker.transform(utts)
    out = []
    for u, s in zip(utts, spk, strict=True):
        tokens, durations = units.encode(u)
        out.append(Example(model.normalise(u.cache["mel"]), model.encoder_input(u, speaker),
                           torch.as_tensor(tokens, dtype=torch.long), torch.as_tensor(durations, dtype=torch.long),
                           torch.as_tensor(s)))
    return out


def batch_loss(model: Prosody2Vec, batch: list[Example], train: bool,
               z_l2: float = 1e-3, duration_weight: float = 0.1) -> tuple[torch.Tensor, torch.Tensor]:
    """(training loss, masked mel L1): L1 + L2 on the mel + 0.1 × duration MSE (+ L2 on z)."""
    mel = pad_sequence([e.mel for e in batch], batch_first=True)
    frames = torch.tensor([len(e.mel) for e in batch])
    tokens = pad_sequence([e.tokens for e in batch], batch_first=True)
    n_tokens = torch.tensor([len(e.tokens) for e in batch])
    durations = pad_sequence([e.durations for e in batch], batch_first=True)
    speaker = torch.stack([e.speaker for e in batch])
    z = model.encode_prosody(pad_sequence([e.encoder_mel for e in batch], batch_first=True), frames)
    loss = torch.zeros(())
    if z is not None:
        loss = loss + z_l2 * (z ** 2).mean()
        if train and model.noise > 0:
            z = z + model.noise * torch.randn_like(z)
    states, log_d = model.unit_states(tokens, n_tokens, speaker, z)
    pred, lengths = model.decode_frames(states, n_tokens, durations, z)  # teacher-forced run lengths
    mask = _mask(frames, mel.shape[1])[..., None].float()
    count = mask.sum() * N_MELS
    l1 = ((pred - mel).abs() * mask).sum() / count
    l2 = (((pred - mel) ** 2) * mask).sum() / count
    token_mask = _mask(n_tokens, tokens.shape[1]).float()
    duration_loss = (((log_d - torch.log(durations.clamp(min=1).float())) ** 2) * token_mask).sum() / token_mask.sum()
    return loss + l1 + l2 + duration_weight * duration_loss, l1


def train_prosody2vec(model: Prosody2Vec, utts: Utterances, units: Any, speaker: Any, epochs: int = 12,
                      seed: int = 0, batch_size: int = 16, lr: float = 1e-3, max_seconds: float | None = None,
                      on_epoch: Callable[[int, float], None] | None = None) -> TrainResult:
    """Adam on the reconstruction loss, batches of similar length, gradient clip 1; stops after `epochs`
    or at the first epoch end past `max_seconds` (the wall-clock cap; `TrainResult.epochs` says how far
    it got). Sets the model's mel normalisation from `utts`, and attaches `units`, `speaker_encoder` and the
    emotion `prototypes` (labels used for nothing else) for `convert_emotion`."""
    if not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs must be an int >= 1, got {epochs!r}")
    if len(utts) < 2:
        raise ValueError("utts: need at least 2 training utterances")
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    stacked = np.concatenate(mels(utts))
    model.mel_mean.copy_(torch.as_tensor(stacked.mean(0)))
    model.mel_std.copy_(torch.as_tensor(stacked.std(0) + 1e-5))
    data = examples(model, utts, units, speaker)
    order = np.argsort([len(e.mel) for e in data])
    batches = [order[i:i + batch_size] for i in range(0, len(order), batch_size)]
    optimiser = torch.optim.Adam(model.parameters(), lr=lr)
    result = TrainResult(0, 0.0)
    start = time.perf_counter()
    for epoch in range(epochs):
        model.train()
        total = 0.0
        for b in rng.permutation(len(batches)):
            loss, _ = batch_loss(model, [data[i] for i in batches[b]], train=True)
            optimiser.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimiser.step()
            total += float(loss.detach()) * len(batches[b])
        result.losses.append(total / len(data))
        result.epochs = epoch + 1
        result.seconds = time.perf_counter() - start
        if on_epoch is not None:
            on_epoch(epoch + 1, result.losses[-1])
        if max_seconds is not None and result.seconds > max_seconds and epoch + 1 < epochs:
            result.capped = True
            break
    model.eval()
    model.units, model.speaker_encoder = units, speaker
    model.prototypes = prototypes(model, utts) if model.encoder is not None else {}
    return result


def prototypes(model: Prosody2Vec, utts: Utterances) -> dict[str, np.ndarray]:
    """Mean prosody code per emotion over `utts` (the training voices): the EVC targets."""
    z = model.embed(utts)
    return {str(e): z[utts.emotion == e].mean(0) for e in np.unique(utts.emotion)}


@torch.no_grad()
def mel_l1(model: Prosody2Vec, utts: Utterances, units: Any, speaker: Any) -> float:
    """Masked L1 between reconstructed and true normalised log-mel (teacher-forced run lengths)."""
    model.eval()
    data = examples(model, utts, units, speaker)
    errors = [float(batch_loss(model, data[i:i + 16], train=False)[1]) * sum(len(e.mel) for e in data[i:i + 16])
              for i in range(0, len(data), 16)]
    return sum(errors) / sum(len(e.mel) for e in data)


def reconstruct(model: Prosody2Vec, utt: Utterance, units: Any, speaker: Any) -> np.ndarray:
    """Log-mel of `utt` decoded from its own units, speaker embedding and prosody code."""
    tokens, _ = units.encode(utt)
    z = model.embed(Utterances([utt]))[0] if model.encoder is not None else None
    return model.synthesize(tokens, speaker.transform(Utterances([utt]))[0], z)[0]
