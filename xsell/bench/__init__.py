"""``xsell bench``: end-to-end speed of xsell against a bare Faust passthrough agent and a naive
first attempt, on one broker and one Redis, with the state backfilled from an orders file
(docs/benchmarks.md).

Modules: :mod:`~xsell.bench.workload` (event mixes from orders), :mod:`~xsell.bench.loadgen`
(aiokafka load generator and suggestion consumer: throughput and latency),
:mod:`~xsell.bench.probes` (machine, /proc CPU, Redis INFO, worker counters),
:mod:`~xsell.bench.scenario` (one agent x mix x mode run with its own worker and topics),
:mod:`~xsell.bench.runner` (the whole run: servers, backfill, scenarios, medians),
:mod:`~xsell.bench.report` (targets and the text table), :mod:`~xsell.bench.profile` (py-spy).
"""
