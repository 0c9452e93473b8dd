"""The plans: for a mean rate (:mod:`~pdplan.plan.rate`, the paper's method and its queueing
models), for a trace (:mod:`~pdplan.plan.trace`: the analytic answer and the replay-checked
one), the cheapest hardware mix (:mod:`~pdplan.plan.hardware`), aggregated against
disaggregated serving (:mod:`~pdplan.plan.modes`) and a plan checked by simulation
(:mod:`~pdplan.plan.verify`)."""
