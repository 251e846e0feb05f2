"""Random generators and smooth random fields shared by the stages.

Every stage draws from its own generator, derived from the world seed and a
stable stage name (plus e.g. the index of the date), so adding draws in one
stage never shifts the numbers of another and any date can be regenerated on
its own.  Nothing uses numpy's global random state.
"""

from __future__ import annotations

import zlib

import numpy as np


def rng_for(seed: int, *keys: str | int) -> np.random.Generator:
    """A generator for ``keys`` (stage name, index…) derived from ``seed``, stable across runs."""
    words = [int(seed) & 0xFFFFFFFF]
    for key in keys:
        words.append(zlib.crc32(key.encode()) if isinstance(key, str) else int(key) & 0xFFFFFFFF)
    return np.random.default_rng(np.random.SeedSequence(words))


def smooth_field(
    rng: np.random.Generator,
    shape: tuple[int, int],
    corr_px: float | tuple[float, float],
) -> np.ndarray:
    """Gaussian noise low-pass filtered in Fourier space, scaled to mean 0 and std 1.

    ``corr_px`` is the standard deviation of the Gaussian kernel in pixels (one value,
    or (rows, cols) for streaky, anisotropic fields).  The field is periodic, which is
    harmless because callers generate it over a domain larger than they use.
    """
    sy, sx = (float(corr_px), float(corr_px)) if isinstance(corr_px, int | float) else corr_px
    noise = rng.standard_normal(shape)
    ky = np.fft.fftfreq(shape[0])[:, None]
    kx = np.fft.rfftfreq(shape[1])[None, :]
    transfer = np.exp(-2.0 * np.pi**2 * ((ky * sy) ** 2 + (kx * sx) ** 2))
    field = np.fft.irfft2(np.fft.rfft2(noise) * transfer, s=shape)
    std = field.std()
    return ((field - field.mean()) / (std if std > 0 else 1.0)).astype(np.float32)


def multiscale_field(
    rng: np.random.Generator,
    shape: tuple[int, int],
    scales_px: tuple[float, ...],
    weights: tuple[float, ...],
) -> np.ndarray:
    """A weighted sum of smooth fields at several correlation lengths, rescaled to std 1."""
    total = sum(w * smooth_field(rng, shape, s) for s, w in zip(scales_px, weights, strict=True))
    field = np.asarray(total, dtype=np.float32)
    return (field - field.mean()) / max(float(field.std()), 1e-9)


def smoothstep(x: np.ndarray | float) -> np.ndarray:
    """0 below 0, 1 above 1, a smooth S in between: the shape of growth and senescence."""
    t = np.clip(x, 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def block_mean(array: np.ndarray, factor: int = 2) -> np.ndarray:
    """Mean over ``factor`` × ``factor`` blocks of the last two axes (10 m -> 20 m)."""
    *lead, h, w = array.shape
    blocks = array.reshape(*lead, h // factor, factor, w // factor, factor)
    return blocks.mean(axis=(-3, -1))


def upsample(array: np.ndarray, factor: int = 2) -> np.ndarray:
    """Repeat each pixel ``factor`` times along the last two axes (20 m -> 10 m)."""
    return np.repeat(np.repeat(array, factor, axis=-2), factor, axis=-1)
