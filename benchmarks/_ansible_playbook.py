"""ansible-playbook, with the controller and each forked worker under cProfile when BENCH_PROFILE_DIR is set.

The benchmarks start ansible-playbook through this file so that a profile needs no change to Ansible: each
process dumps its own ansible-<role>-<pid>.prof into BENCH_PROFILE_DIR.
"""

import cProfile
import os
import sys

from ansible.cli.playbook import main
from ansible.executor.process import worker


def profiled(directory, role, function, *args):
    profiler = cProfile.Profile()
    try:
        return profiler.runcall(function, *args)
    finally:
        profiler.dump_stats(os.path.join(directory, f"ansible-{role}-{os.getpid()}.prof"))


if __name__ == "__main__":
    PROFILE_DIR = os.environ.get("BENCH_PROFILE_DIR")
    if PROFILE_DIR:
        run_worker = worker.WorkerProcess._run  # pylint: disable=protected-access
        worker.WorkerProcess._run = lambda self: profiled(PROFILE_DIR, "worker", run_worker, self)  # pylint: disable=protected-access
        sys.exit(profiled(PROFILE_DIR, "controller", main))
    sys.exit(main())
