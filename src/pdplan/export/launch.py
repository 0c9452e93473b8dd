"""A plan as a bash script that launches it (pure text, no I/O).

The script runs as written on one host with enough accelerators: it starts every instance of
the plan with its own device set (``CUDA_VISIBLE_DEVICES``, or CPU cores with ``DEVICE=cpu``
for the vLLM CPU build), its own HTTP port and KV side-channel port (NIXL) or bootstrap port
(SGLang), waits until each answers ``/health``, then starts the P/D router and waits on it;
stopping the script stops everything it started. Across several hosts, ``ONLY`` picks the
instances a host starts and ``PREFILL_HOST_i``/``DECODE_HOST_i`` tell the router where they
are. Every value the plan puts into the script is quoted; names no engine accepts are refused.

``vllm``: the OpenAI API server of vLLM (``python -m vllm.entrypoints.openai.api_server``,
which the CPU build also serves) with the NixlConnector (``KV_CONNECTOR=example``: vLLM's
shared-storage ExampleConnector, one host), behind ``vllm-router --vllm-pd-disaggregation``.
``sglang``: ``sglang.launch_server --disaggregation-mode prefill|decode`` behind
``sglang_router.launch_router --pd-disaggregation`` (each prefill with its bootstrap port).
"""

from __future__ import annotations

import shlex

from pdplan.export.deployment import (
    BOOTSTRAP_PORT,
    ROUTER_PORT,
    SIDE_PORT,
    Deployment,
    Engine,
    check_model_name,
    export_warnings,
    ports,
)
from pdplan.schema.plan import Plan
from pdplan.schema.profile import ProfileMetadata

__all__ = ["launch_script"]

_COMMON = r"""
LOG_DIR=${LOG_DIR:-pdplan-logs}
HEALTH_TIMEOUT_S=${HEALTH_TIMEOUT_S:-1800}
HOST_IP=${HOST_IP:-127.0.0.1}
ROUTER_PORT=${ROUTER_PORT:-__ROUTER_PORT__}
ONLY=${ONLY:-}
NO_ROUTER=${NO_ROUTER:-}
DEVICE=${DEVICE:-cuda}
read -r -a EXTRA <<< "${EXTRA_ARGS:-}"
read -r -a PREFILL_EXTRA <<< "${PREFILL_EXTRA_ARGS:-}"
read -r -a DECODE_EXTRA <<< "${DECODE_EXTRA_ARGS:-}"

PIDS=()
cleanup() {
  trap - EXIT INT TERM
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

devices_on_host() {
  if [ "$DEVICE" = cpu ]; then nproc
  elif command -v nvidia-smi >/dev/null; then nvidia-smi -L | wc -l
  else echo 0
  fi
}

selected() {  # role index: is this instance started on this host?
  [ -z "$ONLY" ] && return 0
  case " $ONLY " in *" $1-$2 "*) return 0 ;; esac
  return 1
}

device_env() {  # first count: the environment that gives an instance its devices
  local last=$(($1 + $2 - 1))
  if [ "$DEVICE" = cpu ]; then echo "VLLM_CPU_OMP_THREADS_BIND=$1-$last"
  else echo "CUDA_VISIBLE_DEVICES=$(seq -s, "$1" "$last")"
  fi
}

wait_healthy() {  # name url pid
  local waited=0
  until curl -sf "$2/health" >/dev/null 2>&1; do
    if ! kill -0 "$3" 2>/dev/null; then
      echo "$1 exited during start-up; last lines of $LOG_DIR/$1.log:" >&2
      tail -n 20 "$LOG_DIR/$1.log" >&2
      exit 1
    fi
    if [ "$waited" -ge "$HEALTH_TIMEOUT_S" ]; then
      echo "$1 not healthy after $HEALTH_TIMEOUT_S s ($2/health); see $LOG_DIR/$1.log" >&2
      exit 1
    fi
    sleep 2
    waited=$((waited + 2))
  done
  echo "$1 healthy on $2"
}

instance_url() {  # role index port: where the router finds an instance
  local var
  var="$(echo "$1" | tr '[:lower:]' '[:upper:]')_HOST_$2"
  echo "http://${!var:-$HOST_IP}:$3"
}

mkdir -p "$LOG_DIR"
needed=0
for line in "${INSTANCES[@]}"; do
  read -r role index _ devices _ <<< "$line"
  if selected "$role" "$index"; then needed=$((needed + devices)); fi
done
have=$(devices_on_host)
if [ "$needed" -gt "$have" ]; then
  echo "this host has $have $DEVICE devices; the instances to start here need $needed" \
    "(start a part of the plan per host with ONLY='prefill-0 decode-0 ...')" >&2
  exit 1
fi

next=0
STARTED=()
for line in "${INSTANCES[@]}"; do
  read -r role index port devices side <<< "$line"
  selected "$role" "$index" || continue
  name="$role-$index"
  start_instance "$role" "$index" "$port" "$(device_env "$next" "$devices")" "$devices" \
    "$side" >"$LOG_DIR/$name.log" 2>&1 &
  PIDS+=("$!")
  STARTED+=("$name http://127.0.0.1:$port $!")
  echo "started $name on port $port (devices from $next: $devices; log $LOG_DIR/$name.log)"
  next=$((next + devices))
done
for started in "${STARTED[@]}"; do
  read -r name url pid <<< "$started"
  wait_healthy "$name" "$url" "$pid"
done

if [ -n "$NO_ROUTER" ]; then
  echo "instances up; NO_ROUTER is set, so no router here"
  wait
  exit 0
fi
ROUTER_ARGS=()
for line in "${INSTANCES[@]}"; do
  read -r role index port _ bootstrap <<< "$line"
  router_arg "$role" "$(instance_url "$role" "$index" "$port")" "$bootstrap"
done
start_router >"$LOG_DIR/router.log" 2>&1 &
ROUTER_PID=$!
PIDS+=("$ROUTER_PID")
wait_healthy router "http://127.0.0.1:$ROUTER_PORT" "$ROUTER_PID"
echo "__NAME__ serving on http://$HOST_IP:$ROUTER_PORT (Ctrl-C stops every instance)"
wait "$ROUTER_PID"
"""

_VLLM = r"""
PYTHON=${PYTHON:-python3}
ROUTER_BIN=${ROUTER_BIN:-vllm-router}
KV_CONNECTOR=${KV_CONNECTOR:-nixl}
KV_DIR=${KV_DIR:-$PWD/pdplan-kv}

kv_config() {  # role
  case "$KV_CONNECTOR" in
    nixl)
      local buffer=cuda
      [ "$DEVICE" = cpu ] && buffer=cpu
      printf '{"kv_connector":"NixlConnector","kv_role":"kv_both",'
      printf '"kv_buffer_device":"%s"}' "$buffer" ;;
    example)
      local kv_role=kv_consumer
      [ "$1" = prefill ] && kv_role=kv_producer
      printf '{"kv_connector":"ExampleConnector","kv_role":"%s",' "$kv_role"
      printf '"kv_connector_extra_config":{"shared_storage_path":"%s"}}' "$KV_DIR" ;;
    *) echo "KV_CONNECTOR must be nixl or example, got $KV_CONNECTOR" >&2; exit 1 ;;
  esac
}

start_instance() {  # role index port device_env devices side_port
  local -a role_extra=("${DECODE_EXTRA[@]}")
  [ "$1" = prefill ] && role_extra=("${PREFILL_EXTRA[@]}")
  mkdir -p "$KV_DIR"
  exec env "$4" VLLM_NIXL_SIDE_CHANNEL_PORT="$6" \
    "$PYTHON" -m vllm.entrypoints.openai.api_server --model "$MODEL" \
    --served-model-name "$SERVED_NAME" --host 0.0.0.0 --port "$3" \
    --tensor-parallel-size "$5" --kv-transfer-config "$(kv_config "$1")" \
    "${EXTRA[@]}" "${role_extra[@]}"
}

router_arg() {  # role url bootstrap
  ROUTER_ARGS+=("--$1" "$2")
}

start_router() {
  exec "$ROUTER_BIN" --host 0.0.0.0 --port "$ROUTER_PORT" --vllm-pd-disaggregation \
    "${ROUTER_ARGS[@]}"
}
"""

_SGLANG = r"""
PYTHON=${PYTHON:-python3}
TRANSFER_BACKEND=${TRANSFER_BACKEND:-mooncake}

start_instance() {  # role index port device_env devices bootstrap_port
  local -a role_extra=("${DECODE_EXTRA[@]}")
  local -a bootstrap=()
  if [ "$1" = prefill ]; then
    role_extra=("${PREFILL_EXTRA[@]}")
    bootstrap=(--disaggregation-bootstrap-port "$6")
  fi
  exec env "$4" "$PYTHON" -m sglang.launch_server --model-path "$MODEL" \
    --served-model-name "$SERVED_NAME" --host 0.0.0.0 --port "$3" --tp-size "$5" \
    --disaggregation-mode "$1" --disaggregation-transfer-backend "$TRANSFER_BACKEND" \
    "${bootstrap[@]}" "${EXTRA[@]}" "${role_extra[@]}"
}

router_arg() {  # role url bootstrap
  if [ "$1" = prefill ]; then ROUTER_ARGS+=(--prefill "$2" "$3")
  else ROUTER_ARGS+=(--decode "$2")
  fi
}

start_router() {
  exec "$PYTHON" -m sglang_router.launch_router --pd-disaggregation --host 0.0.0.0 \
    --port "$ROUTER_PORT" "${ROUTER_ARGS[@]}"
}
"""

_SETTINGS = """\
# Settings (environment variables; defaults in brackets):
#   MODEL [{model}], SERVED_NAME [MODEL], PYTHON [python3]
#   DEVICE [cuda]: cuda gives each instance its GPUs with CUDA_VISIBLE_DEVICES; cpu its cores
#     with VLLM_CPU_OMP_THREADS_BIND (the vLLM CPU build)
#   EXTRA_ARGS, PREFILL_EXTRA_ARGS, DECODE_EXTRA_ARGS: more engine flags (all, or one role)
#   ONLY: the instances this host starts, e.g. 'prefill-0 decode-1' [all]; NO_ROUTER=1: none
#   PREFILL_HOST_i, DECODE_HOST_i: where the router finds instance i [HOST_IP=127.0.0.1]
#   ROUTER_PORT [{router_port}], LOG_DIR [pdplan-logs], HEALTH_TIMEOUT_S [1800]
"""


def launch_script(
    plan: Plan | Deployment,
    engine: Engine,
    model: str,
    metadata: ProfileMetadata | None = None,
) -> str:
    """A bash script that starts the planned allocation on one host and its router.

    >>> from pdplan import SLO, Workload, default_profile, size
    >>> plan = size(default_profile(), Workload.from_tpm(isl_tokens=6144, osl_tokens=512,
    ...             tpm=5e6), SLO(ttft_s=2.0, tpot_s=0.020))
    >>> script = launch_script(plan, "vllm", "deepseek-ai/DeepSeek-V3.1-Terminus")
    >>> script.count("'prefill "), script.count("'decode "), "vllm-router" in script
    (4, 4, True)
    """
    check_model_name(model)
    d = plan if isinstance(plan, Deployment) else Deployment.of_plan(plan)
    tp = {"prefill": d.prefill_gpus, "decode": d.decode_gpus}
    prefill_ports, decode_ports = ports(d.prefill_instances, d.decode_instances)
    rows: list[str] = []
    for role, role_ports in (("prefill", prefill_ports), ("decode", decode_ports)):
        for i, port in enumerate(role_ports):
            k = len(rows)
            aux = BOOTSTRAP_PORT + i if engine == "sglang" else SIDE_PORT + k
            rows.append(f"{role} {i} {port} {tp[role]} {aux}")
    profile_line = ""
    if metadata is not None:
        parts = [metadata.model, metadata.engine, metadata.hardware]
        profile_line = "# Profile: " + " · ".join(p for p in parts if p) + "\n"
    warnings = "".join(
        f"# WARNING: {w}\n" for w in export_warnings(engine, metadata or ProfileMetadata())
    )
    header = (
        "#!/usr/bin/env bash\n"
        f"# {d.summary}\n"
        f"{profile_line}{warnings}"
        f"# Starts the {d.prefill_instances + d.decode_instances} instances on this host "
        f"({tp['prefill']} device(s) per prefill, {tp['decode']} per decode instance), waits "
        "for each to answer /health,\n# then starts the router and waits on it; stopping the "
        "script stops them all.\n"
        + _SETTINGS.format(model=model, router_port=ROUTER_PORT)
        + "set -euo pipefail\n\n"
        f"MODEL=${{MODEL:-{shlex.quote(model)}}}\n"
        "SERVED_NAME=${SERVED_NAME:-$MODEL}\n"
    )
    table = (
        "\n# role, index, HTTP port, devices, KV side-channel (vLLM) or bootstrap (SGLang) "
        "port\nINSTANCES=(\n" + "".join(f"  {shlex.quote(row)}\n" for row in rows) + ")\n"
    )
    body = _VLLM if engine == "vllm" else _SGLANG
    runner = _COMMON.replace("__ROUTER_PORT__", str(ROUTER_PORT)).replace(
        "__NAME__", shlex.quote(d.name)
    )
    return header + body + table + runner
