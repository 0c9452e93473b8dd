"""Deployment exports, one module per target: a bash script that launches vLLM or SGLang
(:mod:`~pdplan.export.launch`), Helm values for the llm-d-modelservice chart
(:mod:`~pdplan.export.llmd`), a Dynamo ``DynamoGraphDeployment``
(:mod:`~pdplan.export.dynamo`); what they share is :mod:`~pdplan.export.deployment`."""

from __future__ import annotations

from pdplan.export.deployment import Deployment, check_model_name, export_warnings
from pdplan.export.launch import launch_script

__all__ = ["Deployment", "check_model_name", "export_warnings", "launch_script"]
