from __future__ import annotations

import pytest

from pdplan import ConfigError, Profile, Workload
from pdplan.engine.overrides import override_profile, parse_decode_table


@pytest.mark.parametrize("text", ["10", "10:abc", "a:1", "0:12", "10:0", "10:1,10:2", "10:-3"])
def test_bad_decode_tables(text: str) -> None:
    with pytest.raises(ConfigError, match="--decode-table"):
        parse_decode_table(text)


def test_override_places_points_at_the_workload(
    paper_profile: Profile, paper_workload: Workload
) -> None:
    w = Workload.from_tpm(isl_tokens=2000, osl_tokens=250, tpm=1e6)
    p = override_profile(
        paper_profile,
        w,
        prefill_max_tps=5000,
        overhead_s=0.0,
        decode_points=parse_decode_table("1:10,8:15"),
        prefill_gpus=2,
        decode_gpus=4,
    )
    assert [(x.isl_tokens, x.max_tps) for x in p.prefill.max_throughput] == [(2000, 5000)]
    assert p.prefill.overhead_s == 0.0
    assert (p.decode.curves[0].isl_tokens, p.decode.curves[0].osl_tokens) == (2000, 250)
    assert (p.prefill.gpus_per_instance, p.decode.gpus_per_instance) == (2, 4)
    assert p.metadata == paper_profile.metadata
