"""The Ray engine on a real local Ray cluster (2 CPUs, no dashboard, small object store).

One cluster for the module. Cheap metrics (PSNR, SSIM) on small synthetic
datasets, LPIPS once on ../shared/data/tid2013-mini.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
import torch

from friqa.evaluation import evaluate, read_manifest, read_scores, score_manifest
from friqa.evaluation.engines import EngineOptions, ScoringJob, ShardResult
from friqa.evaluation.engines.worker import ShardScorer
from friqa.evaluation.manifest import Manifest
from friqa.evaluation.sharded import score_sharded
from friqa.evaluation.shards import PARTS_DIR, ShardTask, plan_shards
from friqa.evaluation.synthetic import make_synthetic_dataset
from friqa.exceptions import FriqaError

ray = pytest.importorskip("ray", reason="the Ray engine needs ray (pip install 'friqa[ray]')")
from friqa.evaluation.engines.ray import RayEngine  # noqa: E402

METRICS = ["psnr", "ssim"]
RAY = {"workers": 2, "shard_rows": 6}


@pytest.fixture(scope="module", autouse=True)
def cluster() -> Iterator[None]:
    """A local Ray cluster for this module; the workers import the friqa under test."""
    src = str(Path(__file__).resolve().parents[3] / "src")
    path = os.pathsep.join(p for p in (src, os.environ.get("PYTHONPATH")) if p)
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        object_store_memory=100 * 1024 * 1024,
        logging_level="WARNING",
        runtime_env={"env_vars": {"PYTHONPATH": path, "OMP_NUM_THREADS": "1"}},
    )
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Manifest:
    root = tmp_path_factory.mktemp("syn")
    return make_synthetic_dataset(root, n_refs=4, levels=3, size=32, seed=5)  # 4 x 6 rows


@pytest.fixture(scope="module")
def local_scores(synthetic: Manifest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("local")
    return score_manifest(synthetic, METRICS, out, progress=False).scores_path


def _summary(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_text())
    for d in data["datasets"]:
        d.pop("run")  # timings
    return data


def test_ray_and_local_give_identical_scores_and_summary(
    synthetic: Manifest, tmp_path: Path
) -> None:
    kw: dict[str, Any] = {"n_boot": 50, "plots": False, "progress": False}
    local = evaluate(synthetic, METRICS, tmp_path / "local", **kw)
    remote = evaluate(synthetic, METRICS, tmp_path / "ray", engine="ray", engine_options=RAY, **kw)
    name = synthetic.name
    assert remote.runs[name].scored == 48
    assert remote.files[f"scores:{name}"].read_bytes() == local.files[f"scores:{name}"].read_bytes()
    assert _summary(remote.files["summary"]) == _summary(local.files["summary"])
    config = json.loads(remote.runs[name].config_path.read_text())
    assert config["engine"]["name"] == "ray" and config["engine"]["workers"] == 2
    assert config["shards"] == {"shard_rows": 6, "count": 4, "job": None}


@pytest.mark.slow  # reason: LPIPS (VGG16) on five 512x384 images, twice (~20 s idle)
def test_tid2013_mini_with_lpips_is_bit_identical(
    shared_data: Path, vgg_weights_path: Path, tmp_path: Path
) -> None:
    manifest_path = shared_data / "tid2013-mini" / "manifest.csv"
    if not manifest_path.is_file():
        pytest.skip(f"needs {manifest_path} (../shared/data/tid2013-mini)")
    manifest = read_manifest(manifest_path)
    metrics = ["psnr", "lpips"]
    kw: dict[str, Any] = {"weights": vgg_weights_path, "n_boot": 50, "plots": False}
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as each worker (cpus_per_worker=1): same float reductions
    try:
        local = evaluate(manifest, metrics, tmp_path / "local", progress=False, **kw)
    finally:
        torch.set_num_threads(threads)
    remote = evaluate(
        manifest,
        metrics,
        tmp_path / "ray",
        engine="ray",
        engine_options={"workers": 2, "shard_rows": 1},
        progress=False,
        **kw,
    )
    name = manifest.name
    assert remote.runs[name].scored == 10 and remote.runs[name].failed == 0
    assert remote.files[f"scores:{name}"].read_bytes() == local.files[f"scores:{name}"].read_bytes()
    assert _summary(remote.files["summary"]) == _summary(local.files["summary"])
    config = json.loads(remote.runs[name].config_path.read_text())
    assert {w["sha256"] for w in config["weights"].values()} == {config_sha(vgg_weights_path)}


def config_sha(path: Path) -> str:
    from friqa.backbone.weights import sha256_of

    return sha256_of(path)


class DiesMidShard(ShardScorer):
    """Scores the first reference group of shard 1, then its process exits (once)."""

    marker_dir = ""

    def score(self, task: ShardTask) -> ShardResult:
        marker = Path(self.marker_dir) / task.shard.id
        if task.shard.index == 1 and not marker.exists():
            marker.touch()
            ref, rows = task.shard.groups[0]
            half = ShardTask(task.shard, {i: task.todo[i] for i in rows})
            super().score(half)
            os._exit(1)
        return super().score(task)


def test_a_worker_killed_mid_shard_loses_and_repeats_nothing(
    synthetic: Manifest, local_scores: Path, tmp_path: Path
) -> None:
    # pickle the test class by value: the workers cannot import this test module
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    DiesMidShard.marker_dir = str(tmp_path)
    engine = RayEngine(EngineOptions(workers=2, shard_rows=6), worker_class=DiesMidShard)
    res = score_sharded(synthetic, METRICS, tmp_path / "o", engine=engine, engine_options=RAY)
    assert (tmp_path / plan_shards(synthetic, 6)[1].id).exists()  # the worker did die
    assert res.scored == 48 and res.failed == 0
    lines = res.scores_path.read_text().splitlines()
    assert len(lines) == 1 + 48  # header + every (row, metric) once
    assert res.scores_path.read_bytes() == local_scores.read_bytes()


class Interrupted(RayEngine):
    """The Ray engine; the driver stops (as if killed) after ``after`` shards."""

    def __init__(self, after: int) -> None:
        super().__init__(EngineOptions(**RAY))
        self.after = after
        self.received: list[str] = []

    def run(self, job: ScoringJob, tasks: Sequence[ShardTask]) -> Iterator[ShardResult]:
        for k, result in enumerate(super().run(job, tasks)):
            self.received.append(result.shard_id)
            yield result
            if k + 1 == self.after:
                raise KeyboardInterrupt


def test_started_locally_interrupted_on_ray_then_resumed_scores_only_missing_shards(
    synthetic: Manifest, local_scores: Path, tmp_path: Path
) -> None:
    out = tmp_path / "o"
    plan = [s.id for s in plan_shards(synthetic, 6)]
    score_manifest(synthetic, METRICS, out, shard=(0, 4), engine_options=RAY)  # local: shard 0
    first = Interrupted(after=1)
    with pytest.raises(KeyboardInterrupt):
        score_sharded(synthetic, METRICS, out, engine=first, engine_options=RAY)
    assert len(first.received) == 1 and plan[0] not in first.received
    assert len(list((out / PARTS_DIR).iterdir())) == 2
    second = Interrupted(after=-1)
    res = score_sharded(synthetic, METRICS, out, engine=second, engine_options=RAY)
    assert sorted(second.received) == sorted(set(plan) - {plan[0], first.received[0]})
    assert res.skipped == 24 and res.scored == 24
    assert res.scores_path.read_bytes() == local_scores.read_bytes()


def test_cli_ray_engine_writes_parquet(
    synthetic: Manifest, local_scores: Path, tmp_path: Path
) -> None:
    pytest.importorskip("pyarrow", reason="Parquet needs pyarrow (the ray extra)")
    from friqa.cli.main import main

    manifest_csv = tmp_path / "m.csv"
    manifest_csv.write_text(synthetic.with_root(None).to_csv())
    argv = ["evaluate", "--manifest", str(manifest_csv), "--root", str(synthetic.root)]
    argv += ["-m", ",".join(METRICS), "--out", str(tmp_path / "o"), "--format", "parquet"]
    argv += ["--engine", "ray", "--workers", "2", "--shard-rows", "6"]
    argv += ["--no-plots", "--bootstrap", "20", "--no-progress"]
    assert main(argv) == 0
    (scores,) = (tmp_path / "o").glob("*/scores.parquet")
    assert read_scores(scores) == read_scores(local_scores)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU on this machine")
def test_gpu_workers(synthetic: Manifest, local_scores: Path, tmp_path: Path) -> None:
    res = score_manifest(
        synthetic,
        METRICS,
        tmp_path / "o",
        device="cuda",
        engine="ray",
        engine_options={"workers": 1, "gpus_per_worker": 1, "shard_rows": 6},
    )
    assert res.scored == 48
    local = {(r.row, r.metric): r.score for r in read_scores(local_scores)}
    for r in read_scores(res.scores_path):
        assert r.score == pytest.approx(local[(r.row, r.metric)], rel=1e-4)


def test_shards_go_through_a_ray_data_actor_pool(synthetic: Manifest, tmp_path: Path) -> None:
    context = ray.data.DataContext.get_current()
    bars = context.enable_progress_bars
    engine = RayEngine(EngineOptions(**RAY))
    res = score_sharded(synthetic, METRICS, tmp_path / "o", engine=engine, engine_options=RAY)
    assert res.scored == 48
    assert engine.stats is not None  # Ray Data's own statistics of the run
    assert "MapBatches(ShardBatches): 4 tasks executed, 4 blocks produced" in engine.stats
    # the run's datasets had Ray Data's bars off; the caller's context is as it was
    assert ray.data.DataContext.get_current() is context and context.enable_progress_bars == bars


class FailsOnShard2(ShardScorer):
    """Raises a FriqaError on shard 2, as a worker that cannot find its weights would."""

    def score(self, task: ShardTask) -> ShardResult:
        if task.shard.index == 2:
            raise FriqaError("no weights at /nowhere/vgg16.pth: set FRIQA_VGG16_WEIGHTS")
        return super().score(task)


def test_a_friqa_error_in_a_worker_reaches_the_driver_as_that_error(
    synthetic: Manifest, tmp_path: Path
) -> None:
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    engine = RayEngine(EngineOptions(**RAY), worker_class=FailsOnShard2)
    with pytest.raises(FriqaError) as info:
        score_sharded(synthetic, METRICS, tmp_path / "o", engine=engine, engine_options=RAY)
    assert str(info.value) == "no weights at /nowhere/vgg16.pth: set FRIQA_VGG16_WEIGHTS"
    parts = {p.stem for p in (tmp_path / "o" / PARTS_DIR).iterdir()}
    assert plan_shards(synthetic, 6)[2].id not in parts


class AlwaysDiesOnShard1(ShardScorer):
    """Its process exits whenever it is given shard 1."""

    def score(self, task: ShardTask) -> ShardResult:
        if task.shard.index == 1:
            os._exit(1)
        return super().score(task)


class Recording(RayEngine):
    """The Ray engine, remembering the shards it handed to the driver."""

    received: list[str]

    def run(self, job: ScoringJob, tasks: Sequence[ShardTask]) -> Iterator[ShardResult]:
        self.received = []
        for result in super().run(job, tasks):
            self.received.append(result.shard_id)
            yield result


def test_a_shard_that_keeps_killing_its_worker_stops_the_run_and_keeps_finished_shards(
    synthetic: Manifest, tmp_path: Path
) -> None:
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    options = {**RAY, "max_retries": 0}
    engine = Recording(EngineOptions(**options), worker_class=AlwaysDiesOnShard1)
    with pytest.raises(FriqaError, match="a Ray worker died on each of the 1 attempts") as info:
        score_sharded(synthetic, METRICS, tmp_path / "o", engine=engine, engine_options=options)
    assert "\n" not in str(info.value)
    parts = {p.stem for p in (tmp_path / "o" / PARTS_DIR).iterdir()}
    assert parts == set(engine.received)
    assert plan_shards(synthetic, 6)[1].id not in parts
