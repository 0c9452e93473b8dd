"""``pdplan size --export llm-d``: Helm values validated against the llm-d-modelservice chart's
own values.schema.json (tests/data/schemas/llm-d-modelservice, see SOURCE.md)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft7Validator
from tests.cli_helpers import run

from pdplan.io import default_profile

SCHEMAS = Path(__file__).parents[1] / "data" / "schemas" / "llm-d-modelservice"


@pytest.fixture(scope="module")
def validator() -> Draft7Validator:
    schema = json.loads((SCHEMAS / "values.schema.json").read_text(encoding="utf-8"))
    Draft7Validator.check_schema(schema)
    return Draft7Validator(schema)


def test_the_charts_own_example_is_valid(validator: Draft7Validator) -> None:
    example = yaml.safe_load((SCHEMAS / "values-pd.yaml").read_text(encoding="utf-8"))
    assert list(validator.iter_errors(example)) == []


def test_the_exported_values_are_valid_and_are_the_plan(
    capsys: pytest.CaptureFixture[str], validator: Draft7Validator
) -> None:
    code, out, err = run(capsys, "size", "--export", "llm-d", "--served-model",
                         "deepseek-ai/DeepSeek-V3.1-Terminus")  # fmt: skip
    assert code == 0, err
    assert out.startswith("# pdplan plan 4P4D")
    values = yaml.safe_load(out)
    assert [e.message for e in validator.iter_errors(values)] == []
    gpus = default_profile().prefill.gpus_per_instance
    assert (values["prefill"]["replicas"], values["decode"]["replicas"]) == (4, 4)
    assert values["prefill"]["parallelism"] == {"tensor": gpus}
    assert values["modelArtifacts"]["name"] == "deepseek-ai/DeepSeek-V3.1-Terminus"
    label = values["modelArtifacts"]["labels"]["llm-d.ai/model"]
    assert len(label) <= 63 and label.replace("-", "").replace(".", "").isalnum()


def test_the_schema_check_is_real(validator: Draft7Validator) -> None:
    from pdplan import SLO, Workload, size
    from pdplan.export.llmd import llmd_values

    plan = size(default_profile(), Workload.from_tpm(isl_tokens=6144, osl_tokens=512, tpm=5e6),
                SLO(ttft_s=2.0, tpot_s=0.020))  # fmt: skip
    values = llmd_values(plan, "org/model")
    values["prefill"]["parallelism"]["tensor"] = "8"
    values["modelArtifacts"]["revision"] = "main"  # not a field of the chart
    errors = {e.message for e in validator.iter_errors(values)}
    assert any("is not of type 'integer'" in m for m in errors)
    assert any("revision" in m for m in errors)


def test_a_model_name_that_is_no_model_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "size", "--export", "llm-d", "--served-model", "m; touch PWNED")
    assert code == 1 and out == "" and "--served-model" in err
