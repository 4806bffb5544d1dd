"""The SMT2020 reader against the counts in ../shared/data/smt2020/FORMAT.md."""

from __future__ import annotations

import pytest

from fabnet.fabsim.smt2020 import PER_BATCH, DatasetError, find_dataset


def test_hvlm_counts(hvlm):
    assert len(hvlm.families) == 106
    assert hvlm.tools == 1443
    assert [r.steps for r in hvlm.routes] == [583, 343]
    assert len(hvlm.wip) == 2255 and len(hvlm.pms) == 292
    assert int(hvlm.family_cascading.sum()) == 45
    r3 = hvlm.routes[0]
    assert (r3.per == PER_BATCH).sum() == 17
    assert (r3.setup >= 0).sum() == 58
    assert (r3.sample_prob < 1).sum() == 95
    assert (r3.rework_step >= 0).sum() == 7 and (r3.cqt_step >= 0).sum() == 41 and (r3.ltl_step >= 0).sum() == 11
    assert hvlm.transport_min == (6.25, 8.75)


def test_hvlm_release_plan_is_57_lots_a_day(hvlm):
    per_day = sum(1440 / s.interval_min for s in hvlm.streams)
    assert per_day == pytest.approx(57.2, abs=0.05)
    allowance = {s.name: round(s.due_allowance_min / 1440, 2) for s in hvlm.streams}
    assert allowance["Lot_3"] == 53.84 and allowance["Lot_4"] == 30.31


def test_lvhm_counts(lvhm):
    assert lvhm.tools == 1313
    assert [r.steps for r in lvhm.routes] == [521, 529, 583, 343, 242, 293, 353, 375, 384, 390]
    assert len(lvhm.wip) == 2156


def test_breakdowns_by_group(hvlm):
    assert hvlm.breakdown_mttf_min["Litho"] == 10080
    assert hvlm.breakdown_mttr_min["Litho"] == pytest.approx(705.59)


def test_missing_dataset_says_where_to_get_it(tmp_path, monkeypatch):
    monkeypatch.setenv("FABNET_SMT2020_DIR", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(DatasetError, match="FABNET_SMT2020_DIR"):
        find_dataset("NOPE", tmp_path)
