"""The model of one engine instance, read from its profile: prefill service times
(:mod:`~pdplan.engine.service_time`) and their variability (:mod:`~pdplan.engine.variability`),
TPOT against batch (:mod:`~pdplan.engine.curves`), the measurement intervals
(:mod:`~pdplan.engine.uncertainty`) and what-if overrides (:mod:`~pdplan.engine.overrides`)."""
