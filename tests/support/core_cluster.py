"""A module-scoped cluster (client app + real workers on fresh Redis databases) so the control,
results and queue tests share one worker instead of starting one per test."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

from tests.support.workers import WorkerProcess


class ModuleCluster:
    def __init__(self, redis_target, log_dir: Path):
        from celerytui.config import load_settings
        from celerytui.tasks import make_celery_app

        broker_db, backend_db = redis_target.fresh_dbs(2)
        self.broker, self.backend = redis_target.url(broker_db), redis_target.url(backend_db)
        self.app = make_celery_app(
            load_settings(broker_url=self.broker, result_backend=self.backend)
        )
        self.log_dir = log_dir
        self.workers: list[WorkerProcess] = []

    def start_worker(self, name: str = "w1", wait: bool = True, **kwargs) -> WorkerProcess:
        worker = WorkerProcess(self.broker, self.backend, self.log_dir, name=name, **kwargs)
        self.workers.append(worker)
        worker.start(self.app if wait else None)
        return worker

    def close(self) -> None:
        for worker in self.workers:
            worker.stop()
        self.app.close()


@contextmanager
def module_cluster(redis_target, tmp_path_factory, name: str):
    cluster = ModuleCluster(redis_target, tmp_path_factory.mktemp(name))
    try:
        yield cluster
    finally:
        cluster.close()
