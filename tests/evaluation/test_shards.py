"""Shards and part files with the local engine: plans, --shard I/N, resume, Parquet."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from friqa.evaluation.engines import EngineOptions, ScoringJob, ShardResult
from friqa.evaluation.engines.local import LocalEngine
from friqa.evaluation.manifest import Manifest
from friqa.evaluation.runner import score_manifest
from friqa.evaluation.scores_file import ScoreRecord, read_scores
from friqa.evaluation.sharded import score_sharded
from friqa.evaluation.shards import (
    PARTS_DIR,
    ShardTask,
    parse_shard_spec,
    plan_shards,
    select_shards,
)
from friqa.evaluation.synthetic import make_synthetic_dataset
from friqa.exceptions import FriqaError, InputError

METRICS = ["psnr", "ssim"]


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Manifest:
    root = tmp_path_factory.mktemp("syn")
    return make_synthetic_dataset(root, n_refs=5, levels=3, size=32, seed=3)  # 5 x 6 rows


@pytest.fixture(scope="module")
def streamed(synthetic: Manifest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The scores file of one plain streamed run (the reference for every other run)."""
    out = tmp_path_factory.mktemp("streamed")
    return score_manifest(synthetic, METRICS, out, progress=False).scores_path


def _by_key(path: Path) -> dict[tuple[int, str], ScoreRecord]:
    return {(r.row, r.metric): r for r in read_scores(path)}


def test_plan_keeps_groups_whole_and_ids_stable(synthetic: Manifest) -> None:
    plan = plan_shards(synthetic, shard_rows=10)
    groups = synthetic.groups()
    assert [len(s) for s in plan] == [6, 6, 6, 6, 6]  # two groups of 6 exceed 10
    assert [r for s in plan for r in s.rows] == list(range(len(synthetic)))
    for s in plan:
        assert all(list(rows) == groups[ref] for ref, rows in s.groups)
    assert [s.id for s in plan] == [s.id for s in plan_shards(synthetic, shard_rows=10)]
    assert len({s.id for s in plan}) == len(plan)
    big = plan_shards(synthetic, shard_rows=12)
    assert [len(s) for s in big] == [12, 12, 6]
    assert {s.id for s in big}.isdisjoint(s.id for s in plan)


def test_select_shards_partitions_the_plan(synthetic: Manifest) -> None:
    plan = plan_shards(synthetic, shard_rows=6)
    picked = [select_shards(plan, (i, 3)) for i in range(3)]
    assert sorted(s.index for p in picked for s in p) == list(range(len(plan)))
    assert select_shards(plan, None) == plan


@pytest.mark.parametrize("bad", ["3/3", "-1/2", "1", "a/b", "0/0"])
def test_bad_shard_spec(bad: str) -> None:
    with pytest.raises(InputError, match="I/N"):
        parse_shard_spec(bad)


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_every_shard_then_a_plain_run_equals_one_run(
    synthetic: Manifest, streamed: Path, tmp_path: Path, fmt: str
) -> None:
    if fmt == "parquet":
        pytest.importorskip("pyarrow", reason="Parquet needs pyarrow (the ray extra)")
    out = tmp_path / "out"
    opts = {"shard_rows": 7}
    for i in range(3):
        res = score_manifest(
            synthetic, METRICS, out, shard=(i, 3), fmt=fmt, engine_options=opts, progress=False
        )
        assert res.scored > 0 and not res.scores_path.exists()
    parts = sorted((out / PARTS_DIR).iterdir())
    assert len(parts) == len(plan_shards(synthetic, 7)) == 5
    config = json.loads((out / "run_config.json").read_text())
    assert config["shards"] == {"shard_rows": 7, "count": 5, "job": [2, 3]}
    final = score_manifest(synthetic, METRICS, out, fmt=fmt, progress=False)
    assert final.scored == 0 and final.skipped == len(synthetic) * 2
    assert not (out / PARTS_DIR).exists()
    assert read_scores(final.scores_path) == read_scores(streamed)
    if fmt == "csv":  # the very same bytes, order included
        assert final.scores_path.read_bytes() == streamed.read_bytes()


def test_sharded_local_engine_equals_the_streamed_run(
    synthetic: Manifest, streamed: Path, tmp_path: Path
) -> None:
    res = score_sharded(synthetic, METRICS, tmp_path / "o", engine_options={"shard_rows": 5})
    assert res.scored == 60 and res.total == 60 and res.timings["ssim"].pairs_scored == 30
    assert res.scores_path.read_bytes() == streamed.read_bytes()


class _Interrupted(LocalEngine):
    """The local engine, stopped (as a killed driver) after ``after`` shards."""

    def __init__(self, after: int) -> None:
        super().__init__(EngineOptions(shard_rows=6))
        self.after = after
        self.scored: list[str] = []

    def run(self, job: ScoringJob, tasks: Sequence[ShardTask]) -> Iterator[ShardResult]:
        for k, result in enumerate(super().run(job, tasks)):
            self.scored.append(result.shard_id)
            yield result
            if k + 1 == self.after:
                raise KeyboardInterrupt


def test_an_interrupted_run_resumes_with_the_missing_shards_only(
    synthetic: Manifest, streamed: Path, tmp_path: Path
) -> None:
    out = tmp_path / "o"
    first = _Interrupted(after=2)
    with pytest.raises(KeyboardInterrupt):
        score_sharded(synthetic, METRICS, out, engine=first, engine_options={"shard_rows": 6})
    assert len(list((out / PARTS_DIR).iterdir())) == 2
    second = _Interrupted(after=-1)
    res = score_sharded(synthetic, METRICS, out, engine=second, engine_options={"shard_rows": 6})
    plan = [s.id for s in plan_shards(synthetic, 6)]
    assert second.scored == plan[2:] and first.scored == plan[:2]
    assert res.skipped == 24 and res.scored == 36
    assert res.scores_path.read_bytes() == streamed.read_bytes()


def test_a_streamed_run_finishes_what_shards_started(
    synthetic: Manifest, streamed: Path, tmp_path: Path
) -> None:
    out = tmp_path / "o"
    score_manifest(synthetic, METRICS, out, shard=(1, 4), engine_options={"shard_rows": 6})
    res = score_manifest(synthetic, METRICS, out, progress=False)
    assert res.skipped == 12 and res.scored == 48
    assert _by_key(res.scores_path) == _by_key(streamed)


def test_overwrite_with_a_shard_is_refused(synthetic: Manifest, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="other shards"):
        score_manifest(synthetic, METRICS, tmp_path, shard=(0, 2), overwrite=True)


def test_cli_shard_jobs_then_the_report(
    synthetic: Manifest, streamed: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from friqa.cli.main import main

    manifest_csv = tmp_path / "m.csv"
    manifest_csv.write_text(synthetic.to_csv())
    base = ["evaluate", "--manifest", str(manifest_csv), "--root", str(synthetic.root)]
    base += ["--name", "syn", "-m", ",".join(METRICS), "--out", str(tmp_path / "o")]
    base += ["--no-plots", "--bootstrap", "10", "--no-progress", "--shard-rows", "12"]
    assert main([*base, "--shard", "3/2"]) == 2
    assert "I/N" in capsys.readouterr().err
    for i in range(2):
        assert main([*base, "--shard", f"{i}/2"]) == 0
        assert "run again without --shard" in capsys.readouterr().out
    assert not (tmp_path / "o" / "report.md").exists()
    assert main(base) == 0
    assert "60 already done" in capsys.readouterr().out
    assert _by_key(tmp_path / "o" / "syn" / "scores.csv") == _by_key(streamed)
    assert (tmp_path / "o" / "report.md").is_file()


def test_ray_engine_without_ray_says_how_to_install(
    synthetic: Manifest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(FriqaError, match=r"friqa\[ray\]"):
        score_manifest(synthetic, METRICS, tmp_path / "o", engine="ray")
    assert not (tmp_path / "o").exists()


def test_cli_ray_options_need_the_ray_engine(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from friqa.cli.main import main

    argv = ["evaluate", "--manifest", "m.csv", "-m", "psnr", "--out", str(tmp_path / "o")]
    assert main([*argv, "--workers", "2"]) == 2
    assert "--engine ray" in capsys.readouterr().err
