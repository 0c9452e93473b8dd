"""Traffic: the request traces pdplan reads (:mod:`~pdplan.traffic.formats`, one module per
format) and what a trace asks of a deployment (:mod:`~pdplan.traffic.summary`: rates over time,
burstiness, lengths, prefix reuse)."""
