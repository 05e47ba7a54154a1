#!/usr/bin/env bash
# Grade a class as a Slurm job array: one shard per array task, then one merge.
#
#   SUBMISSIONS=/shared/submissions OUT=/shared/results sbatch --array=1-8 docs/scale-out/grade-slurm.sh
#   # when the array has finished (or: sbatch --dependency=afterok:<array job id> --wrap ...):
#   .venv/bin/neural-ode-grade merge grading_results /shared/results/shard-*
#
# SHARDS must equal the size of --array (8 above). Each task grades the submissions whose path
# hashes to its shard (every task lists the same folder) into OUT/shard-K; `merge` then writes the
# same grades.csv, feedback/ and logs/ as one run would. Run from the course checkout (its .venv),
# on nodes where bubblewrap works (docs/instructors.md). tests/test_scale_out.py runs this script
# with SLURM_ARRAY_TASK_ID set by hand, as Slurm would, and checks the merge.
#SBATCH --job-name=grade-neural-ode
#SBATCH --array=1-8
#SBATCH --cpus-per-task=2
#SBATCH --mem=8G
#SBATCH --time=04:00:00
set -euo pipefail
: "${SLURM_ARRAY_TASK_ID:?run me with sbatch --array=1-N (or set SLURM_ARRAY_TASK_ID)}"
: "${SUBMISSIONS:?set SUBMISSIONS to the folder of submitted notebooks}"
SHARDS="${SHARDS:-8}"
OUT="${OUT:-results}"
GRADE="${GRADE:-.venv/bin/neural-ode-grade}"
exec "$GRADE" "$SUBMISSIONS" --out "$OUT/shard-$SLURM_ARRAY_TASK_ID" \
    --shard "$SLURM_ARRAY_TASK_ID/$SHARDS" --jobs "${SLURM_CPUS_PER_TASK:-2}"
