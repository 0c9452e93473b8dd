"""`pdplan loadtest --ray`: the workers as actors on a local Ray cluster of two node processes
(a head and a worker node, as on two machines), started by the test."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.fakes.openai_server import FakeEngine, FakeServer

from pdplan.bench.records import step_records
from pdplan.cli import main

ray = pytest.importorskip("ray")
from ray.cluster_utils import Cluster  # noqa: E402


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    c = Cluster(
        initialize_head=True,
        head_node_args={"num_cpus": 1, "include_dashboard": False},
    )
    c.add_node(num_cpus=1)
    c.wait_for_nodes()
    ray.init(address=c.address, log_to_driver=False)
    yield c
    ray.shutdown()
    c.shutdown()


def test_two_ray_nodes_send_one_schedule_with_measured_clocks(
    cluster: Any, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert len([n for n in ray.nodes() if n["Alive"]]) == 2
    args = ["--isl", "100", "--osl", "8", "--rps", "40", "--ttft", "500ms", "--tpot", "50ms",
            "--duration", "1s", "--sweep", "0.5,1", "--json"]  # fmt: skip
    with FakeServer(FakeEngine()) as server:
        with pytest.raises(SystemExit) as info:
            main(["loadtest", "--url", server.url, *args, "--out", str(tmp_path / "ray"),
                  "--workers", "2", "--ray", cluster.address])  # fmt: skip
        text, err = capsys.readouterr()
        assert info.value.code == 0, err
        with pytest.raises(SystemExit) as info:
            main(["loadtest", "--url", server.url, *args, "--out", str(tmp_path / "local"),
                  "--workers", "2"])  # fmt: skip
        local_text, err = capsys.readouterr()
        assert info.value.code == 0, err
    steps, local = json.loads(text)["steps"], json.loads(local_text)["steps"]
    for step, other in zip(steps, local, strict=True):
        assert step.keys() == other.keys()
        for key in ("multiplier", "scheduled_rps", "requests", "failed"):
            assert step[key] == other[key], key
        assert step["failed"] == 0 and step["meets_slo"], (step["failure"], step["workers"])
        workers = step["workers"]
        assert [w["worker"] for w in workers] == [0, 1]
        for w in workers:
            # one machine: the offset is the clocks' agreement, within the round trip
            assert w["clock_offset_s"] is not None and abs(w["clock_offset_s"]) < 0.05
            assert w["send_lag_s"]["p99"] < 0.05 and w["cpu_s"] > 0
        assert sum(w["requests"] for w in workers) == step["requests"]
        records = step_records(tmp_path / "ray", f"loadtest/x{step['multiplier']:g}")
        assert len(records) == step["requests"]
        # converted to the controller's clock: sends are where the schedule put them
        assert all(abs(r["extra"]["send_lag_s"]) < 0.05 for r in records)


def test_a_schedule_planned_on_two_ray_nodes_is_the_local_one(
    cluster: Any, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """The independent replays of ``pdplan schedule`` (the steps, the trims, the policies'
    searches) as Ray tasks: the same answer as in local worker processes."""
    import random

    rng = random.Random(5)
    rows, t = ["arrival_s,isl_tokens,osl_tokens"], 0.0
    for k, rate in enumerate((1.0, 6.0, 2.0)):
        while (t := t + rng.expovariate(rate)) < (k + 1) * 300:
            rows.append(f"{t:.4f},6144,32")
    trace = tmp_path / "ramp.csv"
    trace.write_text("\n".join(rows) + "\n", encoding="utf-8")
    args = ["schedule", "--trace", str(trace), "--ttft", "1s", "--step", "5min",
            "--scale-up-delay", "1min", "--interval", "60s", "--json"]  # fmt: skip
    outputs = []
    for where in (["--ray", cluster.address], ["--jobs", "2"]):
        with pytest.raises(SystemExit) as info:
            main([*args, *where])
        out, err = capsys.readouterr()
        assert info.value.code == 0, err
        outputs.append(json.loads(out))
    on_ray, local = outputs
    assert on_ray == local
    assert len(on_ray["schedule"]["steps"]) > 1 and on_ray["replay"]["windows"]
