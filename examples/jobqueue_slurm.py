"""Run a sweep (or a batch) on a SLURM cluster with dask-jobqueue: same call as on a laptop, plus a client.

Each SLURM job starts one Dask worker process; the sweep submits one task per grid point to them. Run this
script on a login node of the cluster (the scheduler lives in this process; workers connect back to it):

    python examples/jobqueue_slurm.py --jobs 4 --queue normal --account myproject --out sweep_out

Or start the cluster from a notebook, and point the CLI at its scheduler address instead:

    neurosim sweep lif_network --grid g=3,4,5,6 --grid nu_ext_ratio=1,2 --out sweep_out \
        --scheduler tcp://<address printed by cluster.scheduler_address>

Adapt cores/memory/walltime to your partition. ``print(cluster.job_script())`` shows the exact sbatch script
before anything is submitted (tests/test_sweep.py checks it). PBS, SGE, LSF: use PBSCluster, SGECluster, ...
with the same arguments.
"""
import argparse


def make_cluster(*, queue=None, account=None, cores=4, memory="16GB", walltime="02:00:00",
                 local_directory="$TMPDIR", python=None, job_extra_directives=(), env=()):
    """A ``dask_jobqueue.SLURMCluster`` whose jobs each run ``cores`` single-threaded worker processes.

    One thread per worker (processes = cores): Brian2 keeps process-global state, so parallelism comes from
    processes. Nothing is submitted until ``cluster.scale(jobs=N)``.
    """
    from dask_jobqueue import SLURMCluster

    return SLURMCluster(queue=queue, account=account, cores=cores, processes=cores, memory=memory,
                        walltime=walltime, local_directory=local_directory, python=python,
                        job_extra_directives=list(job_extra_directives), job_script_prologue=list(env),
                        scheduler_options={"dashboard_address": None})


def main(argv=None):
    from dask.distributed import Client

    from neurosim.sweep import run_sweep

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2, help="SLURM jobs (one Dask worker each)")
    parser.add_argument("--queue", default=None)
    parser.add_argument("--account", default=None)
    parser.add_argument("--out", default="out/sweep_slurm")
    parser.add_argument("--dry-run", action="store_true", help="print the job script and exit")
    args = parser.parse_args(argv)

    cluster = make_cluster(queue=args.queue, account=args.account)
    try:
        print(cluster.job_script())
        if args.dry_run:
            return 0
        cluster.scale(jobs=args.jobs)
        with Client(cluster) as client:
            summary = run_sweep("lif_network", {"g": [3.0, 4.0, 5.0, 6.0], "nu_ext_ratio": [1.0, 2.0]},
                                fixed={"device": "cpp_standalone"}, out=args.out, client=client)
        print(summary)
        print(summary.table.to_string(index=False))
        return 0 if summary.ok else 1
    finally:
        cluster.close()


if __name__ == "__main__":
    raise SystemExit(main())
