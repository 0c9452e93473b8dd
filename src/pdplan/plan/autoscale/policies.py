"""Autoscaling policies as operators run them, as :class:`~pdplan.sim.elastic.Controller` s
for the one simulator. Pure.

- :class:`ThroughputPolicy`, as NVIDIA Dynamo's SLA planner scales (its throughput-based
  mode): every adjustment interval (default 180 s) it predicts the next interval's request
  count, input and output lengths from the past intervals (``constant``: the last value;
  ``moving-average``: the mean of the last few; ``kalman``: Dynamo's local-linear-trend
  filter with its default noise settings), and divides the predicted rate, times a
  ``headroom`` factor, by one instance's throughput from the profile: prefill at TPmax for the
  predicted input length, decode at the batch that meets the TPOT SLO. No queueing: that is
  the planner's own estimate.
- :class:`ThresholdPolicy`, as a Kubernetes HorizontalPodAutoscaler (or KEDA, which drives
  one) scales on a per-instance load metric: every sync period (15 s) the desired count is
  ``ceil(load / target)``, nothing changes while the ratio to the current count is within the
  tolerance (10 %), a scale-up adds at most ``max(100 %, 4)`` instances per period and a
  scale-down takes the highest recommendation of the stabilisation window (300 s). The load
  of an instance is what its engine exports: prefill requests running and waiting per prefill
  server; decode requests running and waiting per slot of the batch that meets TPOT.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from typing import Literal, Protocol

from pdplan.sim.elastic import Observation

__all__ = [
    "PREDICTORS",
    "Capacity",
    "KalmanPredictor",
    "ThresholdPolicy",
    "ThroughputPolicy",
    "make_predictor",
]

Predictor = Literal["constant", "moving-average", "kalman"]
PREDICTORS: tuple[Predictor, ...] = ("constant", "moving-average", "kalman")
#: Intervals the moving average spans.
MOVING_AVERAGE_INTERVALS = 3


@dataclass(frozen=True)
class Capacity:
    """One instance's throughput from the profile, as the policies use it.

    :ivar prefill_tps: TPmax, input tokens per second of one prefill instance (at the mean
        input length)
    :ivar decode_batch: the largest batch that meets the TPOT SLO
    :ivar decode_tpot_s: the TPOT at that batch
    :ivar prefill_servers: prefill servers per instance (attention-DP groups)
    """

    prefill_tps: float
    decode_batch: int
    decode_tpot_s: float
    prefill_servers: int = 1


class _Predictor(Protocol):
    def add(self, value: float) -> None: ...

    def predict(self) -> float | None: ...


class _Constant:
    def __init__(self) -> None:
        self.last: float | None = None

    def add(self, value: float) -> None:
        self.last = value

    def predict(self) -> float | None:
        return self.last


class _MovingAverage:
    def __init__(self, size: int = MOVING_AVERAGE_INTERVALS) -> None:
        self.values: deque[float] = deque(maxlen=size)

    def add(self, value: float) -> None:
        self.values.append(value)

    def predict(self) -> float | None:
        return sum(self.values) / len(self.values) if self.values else None


class KalmanPredictor:
    """A local linear trend (level + slope) Kalman filter, observe one, predict the next: the
    model and default noise of Dynamo's ``kalman`` load predictor (level noise 1, trend noise
    0.1, observation noise 10, initial covariance 1000).

    >>> k = KalmanPredictor()
    >>> for v in (10.0, 20.0, 30.0, 40.0):
    ...     k.add(v)
    >>> round(k.predict(), 1)  # follows the trend
    49.9
    """

    def __init__(self, q_level: float = 1.0, q_trend: float = 0.1, r: float = 10.0) -> None:
        self.q = (q_level, q_trend)
        self.r = r
        self.x: list[float] | None = None  # level, trend
        self.p = [[1000.0, 0.0], [0.0, 1000.0]]

    def _step(self) -> tuple[list[float], list[list[float]]]:
        assert self.x is not None
        (a, b), ((p00, p01), (p10, p11)) = self.x, self.p
        x = [a + b, b]  # F = [[1, 1], [0, 1]]
        p = [
            [p00 + p01 + p10 + p11 + self.q[0], p01 + p11],
            [p10 + p11, p11 + self.q[1]],
        ]
        return x, p

    def add(self, value: float) -> None:
        if self.x is None:
            self.x = [value, 0.0]
            return
        x, p = self._step()
        s = p[0][0] + self.r
        k0, k1 = p[0][0] / s, p[1][0] / s
        y = value - x[0]
        self.x = [x[0] + k0 * y, x[1] + k1 * y]
        self.p = [
            [(1 - k0) * p[0][0], (1 - k0) * p[0][1]],
            [p[1][0] - k1 * p[0][0], p[1][1] - k1 * p[0][1]],
        ]

    def predict(self) -> float | None:
        if self.x is None:
            return None
        return max(0.0, self._step()[0][0])


def make_predictor(kind: Predictor) -> _Predictor:
    """A fresh predictor of one series."""
    if kind == "constant":
        return _Constant()
    if kind == "moving-average":
        return _MovingAverage()
    return KalmanPredictor()


def _clamp(value: int, lo: int, hi: int) -> int:
    return min(max(value, lo), hi)


@dataclass
class ThroughputPolicy:
    """Dynamo's throughput-based planner (see the module docstring)."""

    capacity: Capacity
    initial_counts: tuple[int, int]
    predictor: Predictor = "constant"
    headroom: float = 1.0
    interval_s: float = 180.0
    min_instances: tuple[int, int] = (1, 1)
    max_instances: tuple[int, int] = (1000, 1000)
    _series: tuple[_Predictor, _Predictor, _Predictor] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # the request count, the mean input length and the mean output length per interval
        self._series = (
            make_predictor(self.predictor),
            make_predictor(self.predictor),
            make_predictor(self.predictor),
        )

    def initial(self) -> tuple[int, int]:
        return self.initial_counts

    def next_decision_s(self, after_s: float) -> float | None:
        """Every interval, the first one interval in (it needs an interval's load)."""
        return max(math.floor(after_s / self.interval_s) + 1, 1) * self.interval_s

    def decide(self, obs: Observation) -> tuple[int | None, int | None]:
        count, isl_series, osl_series = self._series
        count.add(float(obs.arrivals))
        if obs.arrivals:  # the lengths of an empty interval are unknown, not zero
            isl_series.add(obs.input_tokens / obs.arrivals)
            osl_series.add(obs.output_tokens / obs.arrivals)
        n, isl, osl = count.predict(), isl_series.predict(), osl_series.predict()
        if n is None or isl is None or osl is None:
            return None, None
        rate = n / max(obs.now_s - obs.since_s, 1e-9) * self.headroom
        c = self.capacity
        prefill = math.ceil(rate * isl / c.prefill_tps - 1e-9)
        decode = math.ceil(rate * osl * c.decode_tpot_s / c.decode_batch - 1e-9)
        return (
            _clamp(prefill, self.min_instances[0], self.max_instances[0]),
            _clamp(decode, self.min_instances[1], self.max_instances[1]),
        )


@dataclass
class ThresholdPolicy:
    """A HorizontalPodAutoscaler on each phase's load metric (see the module docstring)."""

    capacity: Capacity
    initial_counts: tuple[int, int]
    target: float = 0.7
    sync_s: float = 15.0
    tolerance: float = 0.1
    scale_down_window_s: float = 300.0
    min_instances: tuple[int, int] = (1, 1)
    max_instances: tuple[int, int] = (1000, 1000)
    _history: tuple[deque[tuple[float, int]], deque[tuple[float, int]]] = field(
        init=False, repr=False
    )

    def __post_init__(self) -> None:
        # the autoscaler ran before the replay began, recommending what serves at its start
        self._history = (
            deque([(0.0, self.initial_counts[0])]),
            deque([(0.0, self.initial_counts[1])]),
        )

    def initial(self) -> tuple[int, int]:
        return self.initial_counts

    def next_decision_s(self, after_s: float) -> float | None:
        return max(math.floor(after_s / self.sync_s) + 1, 1) * self.sync_s

    def decide(self, obs: Observation) -> tuple[int | None, int | None]:
        c = self.capacity
        serving = (obs.prefill_serving, obs.decode_serving)
        current = (
            obs.prefill_serving + obs.prefill_starting,
            obs.decode_serving + obs.decode_starting,
        )
        load = (
            (obs.prefill_busy + obs.prefill_queued) / c.prefill_servers,
            (obs.decode_running + obs.decode_waiting) / c.decode_batch,
        )
        out: list[int | None] = []
        for k in range(2):
            ratio = load[k] / (self.target * max(serving[k], 1))
            if abs(ratio - 1) <= self.tolerance:
                desired = current[k]
            else:
                desired = math.ceil(load[k] / self.target - 1e-9)
            desired = min(desired, max(2 * current[k], current[k] + 4))  # scale-up rate
            history = self._history[k]
            history.append((obs.now_s, desired))
            while history and history[0][0] < obs.now_s - self.scale_down_window_s:
                history.popleft()
            if desired < current[k]:  # scale down to the highest recent recommendation
                desired = min(current[k], max(d for _, d in history))
            out.append(_clamp(desired, self.min_instances[k], self.max_instances[k]))
        return out[0], out[1]
