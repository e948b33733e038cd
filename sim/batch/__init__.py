"""Batch experiments: sweeps with replications, parallel, resumable, local or on Dask.

::

    from sim.batch import load_and_prepare, run_experiment, read_runs
    prepared = load_and_prepare("experiments/ownership_vs_culture.toml")
    report = run_experiment(prepared, "results/ownership_vs_culture", workers=2)
    df = read_runs("results/ownership_vs_culture")     # or pd.read_parquet(".../runs")

Modules: :mod:`~sim.batch.spec` (experiment files), :mod:`~sim.batch.design` (pure
design expansion, run ids and seeds), :mod:`~sim.batch.runner` (executors, chunks,
resume), :mod:`~sim.batch.store` (the Parquet results directory) and
:mod:`~sim.batch.analysis` (confidence intervals, plots, SALib sensitivity).
"""

from sim.batch.design import DesignPoints, expand, run_id, run_seed
from sim.batch.runner import SweepInterrupted, SweepReport, local_executor, run_experiment
from sim.batch.spec import Experiment, ExperimentError, Prepared, load_and_prepare, load_experiment, prepare
from sim.batch.store import read_design, read_manifest, read_runs, read_timeseries

__all__ = [
    "DesignPoints", "Experiment", "ExperimentError", "Prepared", "SweepInterrupted", "SweepReport",
    "expand", "load_and_prepare", "load_experiment", "local_executor", "prepare", "read_design",
    "read_manifest", "read_runs", "read_timeseries", "run_experiment", "run_id", "run_seed",
]
