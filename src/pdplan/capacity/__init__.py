"""What one phase's pool of instances sustains under its SLO: :mod:`.prefill` (TTFT) and
:mod:`.decode` (TPOT), each returning its plan and the pool's rate as a function of the
instance count; :mod:`.pool` the search and the bounds they share. The closed forms they
stand on live in :mod:`pdplan.queueing`. Pure."""
