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
