"""Small synthetic data sets for lecture 06 (Prediction), made on the spot: nothing downloads.

- `digit_scenes()`: scikit-learn's 8x8 digits, rescaled and pasted onto a larger blank canvas, with the box,
  the class and a per-pixel mask of every digit: toy data for object detection and semantic segmentation.
- `touch_tones()`: telephone keypad (DTMF) recordings of digit strings, each key a sum of two pure tones, with
  random durations, pauses, loudness and noise: toy data for speech recognition, where the alignment between
  the sound and the symbols is unknown.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

# Telephone keypad frequencies (Hz): each key sounds one "row" tone and one "column" tone at once.
DTMF_ROWS: tuple[float, ...] = (697.0, 770.0, 852.0, 941.0)
DTMF_COLS: tuple[float, ...] = (1209.0, 1336.0, 1477.0)
DTMF_KEYS: dict[int, tuple[float, float]] = {
    **{k: (DTMF_ROWS[(k - 1) // 3], DTMF_COLS[(k - 1) % 3]) for k in range(1, 10)},
    0: (DTMF_ROWS[3], DTMF_COLS[1]),
}


@dataclass(frozen=True)
class Scenes:
    """Canvases with digits pasted on them.

    images: (N, 1, H, W) in [0, 1]; boxes: (N, K, 4) as (x0, y0, x1, y1) in pixels, x1 and y1 exclusive, tight
    around each digit's ink; labels: (N, K) digit classes; masks: (N, H, W) int64, 0 for background and
    1 + class on the pixels a digit's ink covers.
    """

    images: torch.Tensor
    boxes: torch.Tensor
    labels: torch.Tensor
    masks: torch.Tensor


def digit_scenes(
    digits: torch.Tensor,
    labels: torch.Tensor,
    n: int,
    canvas: int = 32,
    per_scene: int = 1,
    sizes: tuple[int, int] = (10, 16),
    noise: float = 0.0,
    ink: float = 0.25,
    seed: int = 0,
) -> Scenes:
    """Paste `per_scene` random digits from `digits` (M, 1, 8, 8) onto each of `n` blank canvases.

    Each digit is resized to a random side in `sizes` (inclusive) and placed at a random position where its box
    does not overlap the boxes already placed; pixels brighter than `ink` are the digit's mask. Gaussian noise of
    standard deviation `noise` is added last (images are clipped to [0, 1]; masks and boxes ignore the noise).
    """
    g = torch.Generator().manual_seed(seed)
    images = torch.zeros(n, 1, canvas, canvas)
    masks = torch.zeros(n, canvas, canvas, dtype=torch.long)
    boxes = torch.zeros(n, per_scene, 4)
    classes = torch.zeros(n, per_scene, dtype=torch.long)
    for i in range(n):
        picks = torch.randint(len(digits), (per_scene,), generator=g).tolist()
        sides = torch.randint(sizes[0], sizes[1] + 1, (per_scene,), generator=g).tolist()
        for _ in range(1000):  # rejection sampling: positions whose squares do not overlap
            corners = [torch.randint(0, canvas - s + 1, (2,), generator=g).tolist() for s in sides]
            squares = list(zip(corners, sides, strict=True))
            if all(x + s <= a or a + c <= x or y + s <= b or b + c <= y
                   for m, ((x, y), s) in enumerate(squares) for (a, b), c in squares[:m]):
                break
        else:
            raise ValueError(f"no room for {per_scene} digits of sides {sides} on a {canvas}x{canvas} canvas")
        for k, (j, ((x, y), s)) in enumerate(zip(picks, squares, strict=True)):
            patch = F.interpolate(digits[j : j + 1], size=(s, s), mode="bilinear", align_corners=False)[0, 0]
            region = images[i, 0, y : y + s, x : x + s]
            region.copy_(torch.maximum(region, patch))
            on = patch > ink  # (s, s): the digit's ink
            masks[i, y : y + s, x : x + s][on] = int(labels[j]) + 1
            rows, cols = on.any(1).nonzero().flatten(), on.any(0).nonzero().flatten()
            boxes[i, k] = torch.tensor([x + cols[0], y + rows[0], x + cols[-1] + 1, y + rows[-1] + 1])
            classes[i, k] = labels[j]
    if noise > 0:
        images = (images + noise * torch.randn(images.shape, generator=g)).clamp(0, 1)
    return Scenes(images, boxes, classes, masks)


@dataclass(frozen=True)
class Recordings:
    """Touch-tone recordings: waves (N, T) at `rate` Hz, the keys pressed as targets (N, S) padded with -1,
    their number target_lengths (N,), and spans (N, S, 2): the sample where each key starts and ends."""

    waves: torch.Tensor
    targets: torch.Tensor
    target_lengths: torch.Tensor
    spans: torch.Tensor
    rate: int


def touch_tones(
    n: int,
    keys: tuple[int, int] = (3, 6),
    rate: int = 4000,
    seconds: float = 1.6,
    tone_ms: tuple[float, float] = (60.0, 150.0),
    gap_ms: tuple[float, float] = (30.0, 100.0),
    noise: float = 0.3,
    seed: int = 0,
) -> Recordings:
    """`n` recordings of `seconds` each, every one a random string of `keys[0]`..`keys[1]` digits dialled on a
    telephone keypad: each key is the sum of its two DTMF tones, held for a random duration in `tone_ms`, after a
    random pause in `gap_ms`, at a random loudness, with white noise of standard deviation `noise` throughout."""
    g = torch.Generator().manual_seed(seed)
    length = int(rate * seconds)
    t = torch.arange(length) / rate  # (T,) seconds
    waves = noise * torch.randn(n, length, generator=g)
    targets = torch.full((n, keys[1]), -1, dtype=torch.long)
    spans = torch.zeros(n, keys[1], 2, dtype=torch.long)
    lengths = torch.randint(keys[0], keys[1] + 1, (n,), generator=g)

    def uniform(lo: float, hi: float) -> float:
        return lo + (hi - lo) * float(torch.rand((), generator=g))

    for i in range(n):
        start = 0
        for k in range(int(lengths[i])):
            key = int(torch.randint(0, 10, (1,), generator=g))
            start += int(rate * uniform(*gap_ms) / 1000)
            stop = start + int(rate * uniform(*tone_ms) / 1000)
            if stop > length:
                raise ValueError(f"{int(lengths[i])} keys do not fit in {seconds} s")
            low, high = DTMF_KEYS[key]
            phase = 2 * math.pi * t[start:stop]
            waves[i, start:stop] += uniform(0.3, 1.0) * (torch.sin(low * phase) + torch.sin(high * phase)) / 2
            targets[i, k] = key
            spans[i, k] = torch.tensor([start, stop])
            start = stop
    return Recordings(waves, targets, lengths, spans, rate)
