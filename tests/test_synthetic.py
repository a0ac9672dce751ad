"""The synthetic data of lecture 06: scenes whose boxes and masks match their pixels, tones at the keypad's pitches."""

from __future__ import annotations

import pytest
import torch

from dlcourse.synthetic import DTMF_KEYS, digit_scenes, touch_tones


def _digits(n: int = 20) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    images = torch.zeros(n, 1, 8, 8)
    images[:, :, 1:7, 2:6] = 0.5 + 0.5 * torch.rand(n, 1, 6, 4, generator=g)  # a blob of ink in each
    return images, torch.arange(n) % 10


def test_scenes_shapes_and_determinism() -> None:
    digits, labels = _digits()
    a = digit_scenes(digits, labels, 5, canvas=32, per_scene=2, seed=3)
    b = digit_scenes(digits, labels, 5, canvas=32, per_scene=2, seed=3)
    assert a.images.shape == (5, 1, 32, 32) and a.boxes.shape == (5, 2, 4)
    assert a.labels.shape == (5, 2) and a.masks.shape == (5, 32, 32) and a.masks.dtype == torch.long
    assert torch.equal(a.images, b.images) and torch.equal(a.boxes, b.boxes)
    assert not torch.equal(a.images, digit_scenes(digits, labels, 5, per_scene=2, seed=4).images)


def test_boxes_are_tight_around_each_mask_and_do_not_overlap() -> None:
    digits, labels = _digits()
    s = digit_scenes(digits, labels, 30, canvas=32, per_scene=2, sizes=(10, 14), seed=0)
    for i in range(30):
        (ax0, ay0, ax1, ay1), (bx0, by0, bx1, by1) = s.boxes[i].tolist()
        assert ax1 <= bx0 or bx1 <= ax0 or ay1 <= by0 or by1 <= ay0  # disjoint
        for k in range(2):
            x0, y0, x1, y1 = (int(v) for v in s.boxes[i, k])
            inside = torch.zeros(32, 32, dtype=torch.bool)
            inside[y0:y1, x0:x1] = True
            mine = s.masks[i] == s.labels[i, k] + 1
            mine &= inside  # two digits of the same class: keep this box's pixels
            rows, cols = mine.any(1).nonzero().flatten(), mine.any(0).nonzero().flatten()
            assert (int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1) == (x0, y0, x1, y1)
            assert (s.images[i, 0][mine] > 0.25).all()  # the mask is where the ink is


def test_noise_changes_images_not_labels() -> None:
    digits, labels = _digits()
    clean = digit_scenes(digits, labels, 4, seed=1)
    noisy = digit_scenes(digits, labels, 4, noise=0.2, seed=1)
    assert torch.equal(clean.masks, noisy.masks) and torch.equal(clean.boxes, noisy.boxes)
    assert not torch.equal(clean.images, noisy.images)
    assert noisy.images.min() >= 0 and noisy.images.max() <= 1


def test_no_room_raises() -> None:
    digits, labels = _digits()
    with pytest.raises(ValueError, match="no room"):
        digit_scenes(digits, labels, 1, canvas=16, per_scene=3, sizes=(10, 10))


def test_touch_tones_targets_and_spans() -> None:
    r = touch_tones(8, keys=(3, 6), seed=0)
    assert r.waves.shape == (8, int(4000 * 1.6)) and r.rate == 4000
    for i in range(8):
        n = int(r.target_lengths[i])
        assert 3 <= n <= 6
        assert (r.targets[i, :n] >= 0).all() and (r.targets[i, n:] == -1).all()
        spans = r.spans[i, :n]
        assert (spans[:, 1] > spans[:, 0]).all() and (spans[1:, 0] >= spans[:-1, 1]).all()  # in order, apart


def test_each_key_sounds_its_two_keypad_frequencies() -> None:
    r = touch_tones(4, noise=0.0, tone_ms=(100.0, 100.0), seed=1)
    freqs = torch.fft.rfftfreq(400, 1 / r.rate)  # 10 Hz bins for a 100 ms tone
    for i in range(4):
        for k in range(int(r.target_lengths[i])):
            s0, _ = r.spans[i, k].tolist()
            spectrum = torch.fft.rfft(r.waves[i, s0 : s0 + 400]).abs()
            band = freqs < 1100  # the row tones are below 1 kHz, the column tones above
            low_peak = freqs[band][spectrum[band].argmax()]
            high_peak = freqs[~band][spectrum[~band].argmax()]
            low, high = DTMF_KEYS[int(r.targets[i, k])]
            assert abs(low_peak - low) <= 5 and abs(high_peak - high) <= 5
