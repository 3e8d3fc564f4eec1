#!/usr/bin/env bash
# The prepared GPU check, on the GPU machine, in the repository root (meant to take under 8 minutes on
# one H100; not run yet):
# the GPU tests, the benchmark's cuda variants (fp32, bf16, bf16+channels_last, +compile) on MNIST,
# one default run with trainer=gpu, one CIFAR-10-subset run with data.on_device=true; every figure
# goes into $OUT/gpu_check.md. Needs .whl/ and .gpu-data/ from scripts/gpu_prepare.sh (carried).
set -uo pipefail
OUT=${OUT:-outputs/gpu-check}
mkdir -p "$OUT" /tmp/site
python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site .whl/*.whl && export PYTHONPATH=/tmp/site:$PWD/src
export CHECKERBOARD_DATA_DIR=$PWD/.gpu-data PYTHONUNBUFFERED=1
md="$OUT/gpu_check.md"
{
  echo "# GPU check, $(date -u +%F)"; echo
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
  python3 -c "import torch, lightning; print('torch', torch.__version__, '| lightning', lightning.__version__)"
  echo; echo "## GPU tests"; echo '```'
  python3 -m pytest -q -p no:cacheprovider tests/test_metrics.py tests/test_train.py -k "gpu or cuda" 2>&1 | tail -5
  echo '```'; echo; echo "## Benchmark, MNIST"
  python3 scripts/benchmark.py --device cuda --repeats 2 --markdown "$OUT/bench.md" --json "$OUT/bench.json" \
      data=mnist data.download=true > "$OUT/bench.log" 2>&1 && cat "$OUT/bench.md" || tail -20 "$OUT/bench.log"
  for run in "trainer=gpu" "trainer=gpu data=folder data.root=.gpu-data/cifar10-subset data.on_device=true"; do
    echo; echo "## python train.py $run"; echo '```'
    /usr/bin/time -f "wall %e s" python3 train.py $run trainer.enable_progress_bar=false \
        hydra.run.dir="$OUT/run-$(echo "$run" | tr -c 'a-z0-9' '_')" 2>&1 | tail -12
    echo '```'
  done
} > "$md" 2>&1
cat "$md"
