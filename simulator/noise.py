"""Counter-based randomness: every random number is a pure function of (key, instant).

A value at second t of unit u is the same whether it is computed in a 90-day
history, a one-second live poll or a Modbus panel update, so outputs do not depend
on chunk sizes and the live modes reproduce the history exactly.
"""

from __future__ import annotations

import functools
import hashlib
import statistics

import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def stream_key(seed: int, *parts: str | int) -> int:
    """A 64-bit key for one random stream (e.g. seed, "noise", compressor id, sensor)."""
    text = "\x1f".join([str(seed), *(str(p) for p in parts)])
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "big")


def keys(seed: int, ids: list[str], *parts: str | int) -> np.ndarray:
    """One key per id (shape [len(ids)]), uint64."""
    return np.array([stream_key(seed, *parts, i) for i in ids], dtype=np.uint64)


def _mix(z: np.ndarray) -> np.ndarray:
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


def bits(key: np.ndarray, counter: np.ndarray) -> np.ndarray:
    """64 random bits per (key, counter): shape [len(key), len(counter)]."""
    with np.errstate(over="ignore"):
        z = key[:, None] + counter.astype(np.uint64)[None, :] * _GOLDEN
        return _mix(z)


def uniform(key: np.ndarray, counter: np.ndarray) -> np.ndarray:
    """Uniform [0, 1) float64, shape [len(key), len(counter)]."""
    return (bits(key, counter) >> np.uint64(11)).astype(np.float64) * (1.0 / 9007199254740992.0)


@functools.cache
def _quantile_table() -> np.ndarray:
    """Standard normal quantiles at the 65,536 midpoints (i + 0.5) / 65536."""
    dist = statistics.NormalDist()
    return np.array([dist.inv_cdf((i + 0.5) / 65536.0) for i in range(65536)], dtype=np.float64)


def normals(key: np.ndarray, counter: np.ndarray, count: int) -> list[np.ndarray]:
    """`count` independent standard normal arrays, four from each 64-bit draw.

    Each normal is a 16-bit quantile lookup (tails reach +-4.3): cheap enough for
    86 million readings and exact enough for sensor noise.
    """
    table = _quantile_table()
    out: list[np.ndarray] = []
    draw = 0
    mask = np.uint64(0xFFFF)
    while len(out) < count:
        # Each further draw uses its own keys: the counters (instants) stay the same.
        with np.errstate(over="ignore"):
            draw_key = key + np.uint64(draw) * _M1 if draw else key
        z = bits(draw_key, counter)
        for shift in (0, 16, 32, 48):
            if len(out) == count:
                break
            index = ((z >> np.uint64(shift)) & mask).astype(np.intp)
            out.append(table[index])
        draw += 1
    return out


def normal(key: np.ndarray, counter: np.ndarray) -> np.ndarray:
    """Standard normal, shape [len(key), len(counter)]."""
    return normals(key, counter, 1)[0]


def smooth(key: np.ndarray, t: np.ndarray, period_s: float) -> np.ndarray:
    """Smooth noise: normal values at knots every `period_s`, smoothstep-interpolated."""
    position = t.astype(np.float64) / period_s
    knot = np.floor(position).astype(np.int64)
    frac = position - knot
    first = int(knot.min())
    values = normal(key, np.arange(first, int(knot.max()) + 2, dtype=np.int64))
    left = values[:, knot - first]
    right = values[:, knot - first + 1]
    weight = frac * frac * (3.0 - 2.0 * frac)
    return left + (right - left) * weight[None, :]
