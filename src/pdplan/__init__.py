"""pdplan: size prefill/decode disaggregated LLM serving from measured engine profiles.

>>> import pdplan
>>> plan = pdplan.size(
...     pdplan.default_profile(),
...     pdplan.Workload.from_tpm(isl_tokens=6144, osl_tokens=512, tpm=5e6),
...     pdplan.SLO(ttft_s=2.0, tpot_s=0.020),
... )
>>> plan.allocation.name, plan.allocation.gpus
('4P4D', 64)
"""

from __future__ import annotations

from typing import TYPE_CHECKING as _TYPE_CHECKING

from pdplan.lazy import exports as _exports

if _TYPE_CHECKING:
    from pdplan.errors import (
        BenchmarkError,
        ConfigError,
        InfeasibleSLOError,
        PdplanError,
        UnstableQueueError,
    )
    from pdplan.io import default_profile, load_profile, load_trace, save_profile
    from pdplan.plan.rate import rate_allocation, size, size_from_instance_tps
    from pdplan.schema import (
        SLO,
        Allocation,
        DecodeCurve,
        DecodePlan,
        DecodePoint,
        DecodeProfile,
        Plan,
        PrefillPlan,
        PrefillPoint,
        PrefillProfile,
        Profile,
        ProfileMetadata,
        Trace,
        Workload,
    )
    from pdplan.schema.arrivals import Gamma, Poisson
    from pdplan.schema.lengths import Empirical, Exponential, Fixed, Lognormal, Uniform

#: Each public name and the module that defines it, imported on first use: ``import pdplan``
#: (and so every command line) pays only for what it touches.
_WHERE = {
    "Allocation": "pdplan.schema",
    "BenchmarkError": "pdplan.errors",
    "ConfigError": "pdplan.errors",
    "DecodeCurve": "pdplan.schema",
    "DecodePlan": "pdplan.schema",
    "DecodePoint": "pdplan.schema",
    "DecodeProfile": "pdplan.schema",
    "Empirical": "pdplan.schema.lengths",
    "Exponential": "pdplan.schema.lengths",
    "Fixed": "pdplan.schema.lengths",
    "Gamma": "pdplan.schema.arrivals",
    "InfeasibleSLOError": "pdplan.errors",
    "Lognormal": "pdplan.schema.lengths",
    "PdplanError": "pdplan.errors",
    "Plan": "pdplan.schema",
    "Poisson": "pdplan.schema.arrivals",
    "PrefillPlan": "pdplan.schema",
    "PrefillPoint": "pdplan.schema",
    "PrefillProfile": "pdplan.schema",
    "Profile": "pdplan.schema",
    "ProfileMetadata": "pdplan.schema",
    "SLO": "pdplan.schema",
    "Trace": "pdplan.schema",
    "Uniform": "pdplan.schema.lengths",
    "UnstableQueueError": "pdplan.errors",
    "Workload": "pdplan.schema",
    "default_profile": "pdplan.io",
    "load_profile": "pdplan.io",
    "load_trace": "pdplan.io",
    "rate_allocation": "pdplan.plan.rate",
    "save_profile": "pdplan.io",
    "size": "pdplan.plan.rate",
    "size_from_instance_tps": "pdplan.plan.rate",
}


__getattr__, __dir__ = _exports(__name__, _WHERE, globals())

__version__ = "0.1.0"

__all__ = [
    "SLO",
    "Allocation",
    "BenchmarkError",
    "ConfigError",
    "DecodeCurve",
    "DecodePlan",
    "DecodePoint",
    "DecodeProfile",
    "Empirical",
    "Exponential",
    "Fixed",
    "Gamma",
    "InfeasibleSLOError",
    "Lognormal",
    "PdplanError",
    "Plan",
    "Poisson",
    "PrefillPlan",
    "PrefillPoint",
    "PrefillProfile",
    "Profile",
    "ProfileMetadata",
    "Trace",
    "Uniform",
    "UnstableQueueError",
    "Workload",
    "default_profile",
    "load_profile",
    "load_trace",
    "rate_allocation",
    "save_profile",
    "size",
    "size_from_instance_tps",
]
