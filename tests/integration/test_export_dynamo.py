"""``pdplan size --export dynamo``: a DynamoGraphDeployment validated against the Dynamo
operator's own CRD schema, and the SLA planner's config against the planner's own model
(tests/data/schemas/dynamo, see SOURCE.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft7Validator, Draft202012Validator
from tests.cli_helpers import run

from pdplan import SLO, Workload, size
from pdplan.export import Deployment
from pdplan.export.dynamo import dynamo_graph
from pdplan.io import default_profile, save_profile

SCHEMAS = Path(__file__).parents[1] / "data" / "schemas" / "dynamo"
MODEL = "deepseek-ai/DeepSeek-V3.1-Terminus"


def closed(schema: Any) -> Any:
    """Every object that lists its properties refuses others: ``kubectl apply`` validates
    fields strictly by default, and the planner's model would silently drop an unknown key."""
    if isinstance(schema, dict):
        out = {k: closed(v) for k, v in schema.items()}
        if (
            "properties" in out
            and "additionalProperties" not in out
            and not out.get("x-kubernetes-preserve-unknown-fields")
        ):
            out["additionalProperties"] = False
        return out
    return [closed(v) for v in schema] if isinstance(schema, list) else schema


@pytest.fixture(scope="module")
def crd() -> Draft7Validator:
    text = (SCHEMAS / "dynamographdeployment-v1beta1.schema.json").read_text(encoding="utf-8")
    schema = closed(json.loads(text))
    Draft7Validator.check_schema(schema)
    return Draft7Validator(schema)


@pytest.fixture(scope="module")
def planner() -> Draft202012Validator:
    text = (SCHEMAS / "planner-config.schema.json").read_text(encoding="utf-8")
    schema = closed(json.loads(text))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def _planner_config(graph: dict[str, Any]) -> dict[str, Any]:
    (component,) = [c for c in graph["spec"]["components"] if c.get("type") == "planner"]
    args = component["podTemplate"]["spec"]["containers"][0]["args"]
    config: dict[str, Any] = json.loads(args[args.index("--config") + 1])
    return config


@pytest.mark.parametrize("example", ["vllm-disagg", "sglang-disagg", "trtllm-disagg"])
def test_dynamos_own_examples_are_valid(crd: Draft7Validator, example: str) -> None:
    graph = yaml.safe_load((SCHEMAS / f"{example}.yaml").read_text(encoding="utf-8"))
    assert [e.message for e in crd.iter_errors(graph)] == []


def test_dynamos_own_planner_example_is_valid(
    crd: Draft7Validator, planner: Draft202012Validator
) -> None:
    graph = yaml.safe_load((SCHEMAS / "vllm-disagg-planner.yaml").read_text(encoding="utf-8"))
    assert [e.message for e in crd.iter_errors(graph)] == []
    assert [e.message for e in planner.iter_errors(_planner_config(graph))] == []


def test_the_exported_graph_is_valid_and_is_the_plan(
    capsys: pytest.CaptureFixture[str], crd: Draft7Validator, planner: Draft202012Validator
) -> None:
    code, out, err = run(capsys, "size", "--export", "dynamo", "--served-model", MODEL)
    assert code == 0, err
    assert out.startswith("# pdplan plan 4P4D")
    graph = yaml.safe_load(out)
    assert [e.message for e in crd.iter_errors(graph)] == []
    components = {c["type"]: c for c in graph["spec"]["components"]}
    assert set(components) == {"frontend", "planner", "prefill", "decode"}
    assert (components["prefill"]["replicas"], components["decode"]["replicas"]) == (4, 4)
    gpus = default_profile().prefill.gpus_per_instance
    main = components["prefill"]["podTemplate"]["spec"]["containers"][0]
    assert main["resources"]["limits"]["nvidia.com/gpu"] == str(gpus)
    # the embedded profile was measured on SGLang: Dynamo's SGLang workers, TP over the GPUs
    assert graph["spec"]["backendFramework"] == "sglang"
    assert main["command"] == ["python3", "-m", "dynamo.sglang"]
    assert main["args"][main["args"].index("--tp") + 1] == str(gpus)
    config = _planner_config(graph)
    assert [e.message for e in planner.iter_errors(config)] == []
    assert (config["ttft_ms"], config["itl_ms"]) == (2000.0, 20.0)
    assert (config["prefill_min_endpoint"], config["decode_min_endpoint"]) == (4, 4)
    assert config["max_gpu_budget"] == 8 * gpus and config["advisory"] is True


@pytest.mark.parametrize("backend", ["vllm", "sglang", "trtllm"])
def test_every_backend_is_valid(
    backend: Any, crd: Draft7Validator, planner: Draft202012Validator
) -> None:
    graph = dynamo_graph(
        Deployment(3, 5, 2, 1, "plan"), "org/model", backend, SLO(ttft_s=0.5, tpot_s=0.01)
    )
    assert [e.message for e in crd.iter_errors(graph)] == []
    assert [e.message for e in planner.iter_errors(_planner_config(graph))] == []
    workers = [c for c in graph["spec"]["components"] if c["type"] in ("prefill", "decode")]
    assert [(c["replicas"], c["podTemplate"]["spec"]["containers"][0]["command"][-1]) for c in
            workers] == [(3, f"dynamo.{backend}"), (5, f"dynamo.{backend}")]  # fmt: skip


def test_the_schema_checks_are_real(crd: Draft7Validator, planner: Draft202012Validator) -> None:
    plan = size(default_profile(), Workload.from_tpm(isl_tokens=6144, osl_tokens=512, tpm=5e6),
                SLO(ttft_s=2.0, tpot_s=0.020))  # fmt: skip
    graph = dynamo_graph(plan, "org/model", "vllm")
    graph["spec"]["components"][2]["replicas"] = "4"
    graph["spec"]["components"][3]["replica"] = 4  # a typo of a field name
    errors = {e.message for e in crd.iter_errors(graph)}
    assert any("is not of type 'integer'" in m for m in errors)
    assert any("'replica' was unexpected" in m for m in errors)
    config = _planner_config(graph) | {"ttft": "fast", "itl_target_ms": 20}
    errors = {e.message for e in planner.iter_errors(config)}
    assert any("itl_target_ms" in m for m in errors), errors


def test_per_instance_throughputs_have_no_slo_and_no_planner(
    capsys: pytest.CaptureFixture[str], crd: Draft7Validator
) -> None:
    code, out, err = run(capsys, "size", "--prefill-tps", "20k", "--decode-tps", "2k",
                         "--export", "dynamo", "--served-model", "org/model")  # fmt: skip
    assert code == 0, err
    graph = yaml.safe_load(out)
    assert [e.message for e in crd.iter_errors(graph)] == []
    assert "planner" not in {c["type"] for c in graph["spec"]["components"]}


def test_a_percentile_slo_and_a_foreign_engine_are_stated(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    profile = default_profile()
    metadata = profile.metadata.model_copy(update={"engine": "lmdeploy 0.9"})
    path = tmp_path / "p.yaml"
    save_profile(profile.model_copy(update={"metadata": metadata}), path)
    code, out, err = run(capsys, "size", "--profile", str(path), "--ttft-stat", "p90",
                         "--export", "dynamo", "--served-model", "org/model")  # fmt: skip
    assert code == 0, err
    assert "lmdeploy" in err and "vLLM workers" in " ".join(err.split())
    assert "# warning: the plan meets p90 TTFT" in out
    assert yaml.safe_load(out)["spec"]["backendFramework"] == "vllm"


def test_a_model_name_that_is_no_model_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "size", "--export", "dynamo", "--served-model", "m; touch PWNED")
    assert code == 1 and out == "" and "--served-model" in err
