"""Fan episode jobs out over Ray actors (or run them here), surviving dead actors.

Each actor owns one ``EpisodeWorker`` (an env and an agent) and runs one job at a time;
the driver keeps every actor busy with ``ray.wait``. Recovery uses Ray's own mechanisms:
actors are created with ``max_restarts``, so Ray restarts a process that died; the
episode it was running surfaces as a ``RayActorError`` and is resubmitted (up to
``max_retries`` attempts). An exception raised by our own code in a worker is a bug or
bad input, the same on every attempt: it is raised here at once, not retried.

Results reach ``on_result`` in the driver, one at a time, as they finish; the caller
makes writing them idempotent (a shard per episode index), so a resubmitted episode can
never be counted twice.
"""

from __future__ import annotations

import os
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from tqdm import tqdm

from astra_sim.core.errors import AstraSimError
from astra_sim.distributed.config import RayConfig
from astra_sim.distributed.worker import EpisodeJob, EpisodeWorker

RESTART_WAIT_S = 0.5
MAX_RESTART_WAITS = 240
"""A restarting actor answers "unavailable" until it is back; on a loaded machine that can
take many seconds, so its episode waits (up to 2 minutes in all) rather than failing."""


class WorkerFailedError(AstraSimError, RuntimeError):
    """An episode kept killing its worker, or the workers could not start."""


def init_ray(cfg: RayConfig) -> bool:
    """Connect to Ray (a running one is reused); returns whether this call started it."""
    import ray

    if ray.is_initialized():
        return False
    os.environ.setdefault("RAY_DEDUP_LOGS", "1")
    if cfg.address:
        ray.init(address=cfg.address, include_dashboard=False, log_to_driver=False)
    else:
        ray.init(num_cpus=cfg.num_cpus, include_dashboard=False, log_to_driver=False)
    return True


class JobPool:
    """Run ``jobs`` on ``workers`` (``RayConfig.workers``; 0: in this process).

    Args:
        cfg: Ray settings.
        worker_args: ``EpisodeWorker`` keyword arguments (``in_actor`` is set here).
        desc: progress bar label.
    """

    def __init__(self, cfg: RayConfig, worker_args: dict[str, Any], desc: str = "episodes"):
        self.cfg, self.worker_args, self.desc = cfg, dict(worker_args), desc
        self._local: EpisodeWorker | None = None
        self._actors: list[Any] = []
        self._started_ray = False

    def __enter__(self) -> JobPool:
        if self.cfg.workers == 0:
            self._local = EpisodeWorker(**self.worker_args, in_actor=False)
            return self
        import ray

        self._started_ray = init_ray(self.cfg)
        workers = self.cfg.workers
        cpus = int(ray.cluster_resources().get("CPU", 0))
        if workers > cpus:
            # One CPU per actor: the extra ones would wait forever with their episodes.
            message = f"ray.workers={workers} but Ray has {cpus} CPUs"
            if self.cfg.address:  # a cluster may be scaling up: wait for it
                tqdm.write(f"{message}; some workers start when the cluster grows")
            else:
                workers = max(cpus, 1)
                tqdm.write(f"{message}; using {workers} workers")
        actor_cls = ray.remote(num_cpus=1, max_restarts=self.cfg.max_restarts, max_task_retries=0)(
            EpisodeWorker
        )
        self._actors = [actor_cls.remote(**self.worker_args, in_actor=True) for _ in range(workers)]
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._local is not None:
            self._local.close()
        if self._actors:
            import ray

            for actor in self._actors:
                ray.kill(actor, no_restart=True)
            self._actors = []
            if self._started_ray:
                ray.shutdown()

    def describe(self, job: EpisodeJob) -> dict[str, Any]:
        """``EpisodeWorker.describe`` on the first worker (it checks the workers start)."""
        if self._local is not None:
            return self._local.describe(job)
        import ray
        from ray.exceptions import RayActorError, RayTaskError

        try:
            return ray.get(self._actors[0].describe.remote(job))
        except RayTaskError as e:
            raise e.as_instanceof_cause() from None
        except RayActorError as e:
            raise WorkerFailedError(f"the Ray workers could not start: {e}") from e

    def run(self, jobs: list[EpisodeJob], on_result: Callable[[dict[str, Any]], None],
            total: int | None = None, initial: int = 0) -> None:  # fmt: skip
        """Run every job; ``on_result`` gets each result in the driver as it arrives."""
        total = len(jobs) + initial if total is None else total
        bar = tqdm(total=total, initial=initial, desc=self.desc, unit="ep", smoothing=0.1)
        steps, t0 = 0, time.perf_counter()

        def done(result: dict[str, Any]) -> None:
            nonlocal steps
            on_result(result)
            steps += int(result["summary"]["steps"])
            bar.update(1)
            bar.set_postfix(steps_per_s=f"{steps / max(time.perf_counter() - t0, 1e-9):.0f}")

        try:
            if self._local is not None:
                for job in jobs:
                    done(self._local.run(job))
            else:
                self._run_ray(jobs, done)
        finally:
            bar.close()

    def _run_ray(self, jobs: list[EpisodeJob], done: Callable[[dict[str, Any]], None]) -> None:
        import ray
        from ray.exceptions import ActorUnavailableError, RayActorError, RayTaskError

        waits = 0
        queue = deque(jobs)
        attempts = {job.index: 0 for job in jobs}
        idle = deque(range(len(self._actors)))
        pending: dict[Any, tuple[int, EpisodeJob]] = {}
        while queue or pending:
            while queue and idle:
                a, job = idle.popleft(), queue.popleft()
                pending[self._actors[a].run.remote(job, attempts[job.index])] = (a, job)
            [ref], _ = ray.wait(list(pending), num_returns=1)
            a, job = pending.pop(ref)
            idle.append(a)
            try:
                result = ray.get(ref)
            except RayTaskError as e:
                raise e.as_instanceof_cause() from None
            except RayActorError as e:
                if isinstance(e, ActorUnavailableError) and waits < MAX_RESTART_WAITS:
                    # The actor is restarting after a crash the episode already paid for:
                    # wait for it instead of burning this episode's attempts on it.
                    waits += 1
                    time.sleep(RESTART_WAIT_S)
                    queue.appendleft(job)
                    continue
                attempts[job.index] += 1
                if attempts[job.index] >= self.cfg.max_retries:
                    raise WorkerFailedError(
                        f"episode {job.index}: its worker died on each of {attempts[job.index]} "
                        f"attempt(s) (ray.max_retries={self.cfg.max_retries}; "
                        f"{e.__class__.__name__}); finished episodes are kept"
                    ) from e
                tqdm.write(f"worker {a} died during episode {job.index}; running it again")
                queue.appendleft(job)
                continue
            done(result)
