"""The SMT2020 reader against the counts in ../shared/data/smt2020/FORMAT.md."""

from __future__ import annotations

import pytest

from fabnet.fabsim.smt2020 import PER_BATCH, DatasetError, find_dataset


def _rows(folder, name):
    """Data rows of one of the dataset's tab-separated files, counted by brute force (every
    non-blank line after the header), not by the reader under test."""
    lines = (folder / name).read_text(encoding="latin-1").splitlines()
    return sum(1 for line in lines[1:] if line.strip())


def test_hvlm_counts(hvlm):
    # each number is FORMAT.md's (its summary table, HVLM column), the SMT2020 description
    # (Kopp et al., IEEE Trans. Semicond. Manuf. 33(4), 2020) as the data in ../shared holds it
    assert len(hvlm.families) == 106  # "tool families | 106 (105 + Delay_32)"
    assert hvlm.tools == 1443  # "tools | 1443 = 1043 real + 400 "Delay" servers"
    assert [r.steps for r in hvlm.routes] == [583, 343]  # "route lengths (steps) | r3 583, r4 343"
    assert len(hvlm.wip) == 2255 and len(hvlm.pms) == 292  # "initial WIP | 2255 lots", "PMs | 292"
    assert int(hvlm.family_cascading.sum()) == 45  # STNCAP 2.0: "45 families: Wet_Etch 14, TF 11, …"
    # and the files' own rows, counted without the reader: one WIP lot, PM or route step a row
    folder = find_dataset("HVLM")
    assert _rows(folder, "WIP.txt") == len(hvlm.wip) and _rows(folder, "pmcal.txt") == len(hvlm.pms)
    assert [_rows(folder, f"route_{n}.txt") for n in (3, 4)] == [r.steps for r in hvlm.routes]
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


def test_hvlm_releases_its_products_in_the_order_files_rates_and_in_any_mix_asked(hvlm):
    from fabnet.fabsim.curve import nominal_release_per_day
    from fabnet.fabsim.mix import product_shares, with_product_mix
    from fabnet.scenario.analyses import HVLM_PRODUCTS

    # order.txt's REPEAT minutes: part_3 Lot 51.69, HotLot 2016, SuperHotLot 27397.61; part_4
    # Lot 51.69, HotLot 2016
    part_3, part_4 = 1 / 51.69 + 1 / 2016 + 1 / 27397.61, 1 / 51.69 + 1 / 2016
    own = product_shares(hvlm)
    assert tuple(own) == HVLM_PRODUCTS  # the scenario's names for them are the data's
    assert own["part_3"] == pytest.approx(part_3 / (part_3 + part_4))
    mixed = with_product_mix(hvlm, {"part_3": 0.25, "part_4": 0.75})
    assert product_shares(mixed) == pytest.approx({"part_3": 0.25, "part_4": 0.75})
    assert nominal_release_per_day(mixed) == pytest.approx(1440 * (part_3 + part_4))  # the same lots a day
    only_4 = with_product_mix(hvlm, {"part_3": 0.0, "part_4": 1.0})
    assert [s.name for s in only_4.streams] == ["Lot_4", "HotLot_4"]
    # part_4's hot lots keep their share of its lots: intervals in the file's ratio 51.69 : 2016
    assert only_4.streams[1].interval_min / only_4.streams[0].interval_min == pytest.approx(2016 / 51.69)
    with pytest.raises(ValueError, match="no product part_9"):
        with_product_mix(hvlm, {"part_9": 1.0})


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


def _same_fab(a, b) -> bool:
    """Two FabData equal field by field (numpy arrays compared by value, NaN equal to NaN)."""
    import dataclasses

    import numpy as np

    def same(x, y) -> bool:
        if isinstance(x, np.ndarray):
            return np.array_equal(x, y, equal_nan=x.dtype.kind == "f")
        if dataclasses.is_dataclass(x):
            return all(same(getattr(x, f.name), getattr(y, f.name)) for f in dataclasses.fields(x))
        if isinstance(x, list | tuple):
            return len(x) == len(y) and all(same(p, q) for p, q in zip(x, y, strict=True))
        return x == y

    return same(a, b)


def test_a_parse_is_kept_and_reread_until_a_file_changes(hvlm, tmp_path, monkeypatch):
    import shutil

    from fabnet.fabsim import smt2020

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("FABNET_CACHE", "1")
    copy = tmp_path / "HVLM"
    shutil.copytree(find_dataset("HVLM"), copy)
    parses, parse = [], smt2020._parse
    monkeypatch.setattr(smt2020, "_parse", lambda *args: parses.append(args) or parse(*args))
    first = smt2020.load_smt2020("HVLM", tmp_path)
    again = smt2020.load_smt2020("HVLM", tmp_path)
    assert len(parses) == 1 and _same_fab(first, again) and _same_fab(again, hvlm)
    assert len(list(smt2020.cache_folder().glob("HVLM-*.pickle"))) == 1
    # One more tool in the first family: a new key, parsed afresh, the stale parse dropped.
    tools = copy / "tool.txt.1l"
    header, first_row, *rest = tools.read_text().splitlines(keepends=True)
    columns = header.rstrip("\n").split("\t")
    cells = first_row.rstrip("\n").split("\t")
    at = columns.index("STNQTY")
    cells[at] = str(int(float(cells[at])) + 1)
    tools.write_text(header + "\t".join(cells) + "\n" + "".join(rest))
    edited = smt2020.load_smt2020("HVLM", tmp_path)
    assert len(parses) == 2 and edited.tools == hvlm.tools + 1
    assert len(list(smt2020.cache_folder().glob("HVLM-*.pickle"))) == 1


def test_a_broken_cache_file_is_parsed_over(hvlm, tmp_path, monkeypatch):
    from fabnet.fabsim import smt2020

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("FABNET_CACHE", "1")
    smt2020.load_smt2020("HVLM")
    (kept,) = smt2020.cache_folder().glob("HVLM-*.pickle")
    kept.write_bytes(kept.read_bytes()[:1000])  # cut short, as by a full disk
    assert _same_fab(smt2020.load_smt2020("HVLM"), hvlm)
    assert _same_fab(smt2020.load_smt2020("HVLM"), hvlm)  # and the repaired copy reads back
