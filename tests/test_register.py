"""项目储备库: build from a run, write, read back, carry readiness over, start the next run."""

from __future__ import annotations

from typing import TYPE_CHECKING

import openpyxl
import pandas as pd
import pytest

from gisplan import register as greg
from gisplan.errors import LayerError, SchemaError, ValidationError

if TYPE_CHECKING:
    from pathlib import Path


def _communities() -> pd.DataFrame:
    """Four communities: C1 eligible and voted, C2 waiting, C3 在建 since 2025, C4 not eligible."""
    frame: pd.DataFrame = pd.DataFrame(
        {
            "community_id": ["C1", "C2", "C3", "C4"],
            "name": ["幸福里", "=HYPERLINK(1)", "纺织厂宿舍", "老街"],
            "street": ["城关街道", "城关街道", "西关街道", "东城街道"],
            "status": ["储备", "储备", "在建", "储备"],
            "start_year": pd.array([None, None, 2025, None], dtype="Int64"),
            "completion_year": pd.array([None, None, 2027, None], dtype="Int64"),
            "planned_year": pd.array([None, None, None, None], dtype="Int64"),
            "scheme_vote_passed": pd.array([True, None, None, None], dtype="boolean"),
            "property_fee_agreed": pd.array([True, False, None, None], dtype="boolean"),
        }
    )
    return frame


def _frames() -> dict[str, pd.DataFrame]:
    """The run's tables for :func:`_communities` (values to check by hand)."""
    return {
        "eligibility": pd.DataFrame(
            {
                "community_id": ["C1", "C2", "C3", "C4"],
                "status": ["eligible", "eligible_waiting_consent", "not_eligible", "not_eligible"],
            }
        ),
        "plan": pd.DataFrame({"community_id": ["C1", "C2"], "priority": [4.56789, 3.0]}),
        "rollout": pd.DataFrame(
            {
                "community_id": ["C1", "C2", "C3", "C4"],
                "priority": [4.56789, None, None, None],
                "start_year": [2027.0, None, 2025.0, None],
                "completion_year": [2028.0, None, 2027.0, None],
            }
        ),
        "funding_modes": pd.DataFrame(
            {
                "community_id": ["C1", "C2"],
                "cost_wan_yuan": [100.0, 200.0],
                "committed_wan_yuan": [100.0, 150.0],
                "assumed_wan_yuan": [0.0, 20.0],
                "shortfall_wan_yuan": [0.0, 50.0],
            }
        ),
        "financing_modes": pd.DataFrame({"community_id": ["C2"], "mode_zh": ["大片区统筹平衡"]}),
    }


@pytest.fixture
def register() -> pd.DataFrame:
    return greg.build_register(_communities(), _frames())


def test_build_rows_and_run_values(register: pd.DataFrame) -> None:
    reg = register.set_index("community_id")
    assert list(reg.index) == ["C1", "C2", "C3"]  # C4: not eligible, not started
    assert list(register.columns[:4]) == ["community_id", "name", "street", "status"]
    # C1: scheduled for 2027 by the roll-out, still 储备: no start or completion year yet
    assert reg.loc["C1", "status"] == "储备"
    assert reg.loc["C1", "planned_year"] == 2027
    assert pd.isna(reg.loc["C1", "start_year"])
    assert pd.isna(reg.loc["C1", "completion_year"])
    assert reg.loc["C1", "priority"] == pytest.approx(4.568)  # rounded to 3 places
    # C3: 在建 since 2025, completes 2027
    assert (reg.loc["C3", "start_year"], reg.loc["C3", "completion_year"]) == (2025, 2027)
    # money: cost = committed + gap (assumed money not counted in this run)
    assert reg.loc["C2", "cost_wan_yuan"] == pytest.approx(200.0)
    assert reg.loc["C2", "committed_wan_yuan"] == pytest.approx(150.0)
    assert reg.loc["C2", "assumed_wan_yuan"] == pytest.approx(20.0)
    assert reg.loc["C2", "gap_wan_yuan"] == pytest.approx(50.0)
    assert reg.loc["C2", "financing_mode"] == "大片区统筹平衡"
    assert pd.isna(reg.loc["C3", "cost_wan_yuan"])


def test_build_prefills_what_the_run_knows(register: pd.DataFrame) -> None:
    reg = register.set_index("community_id")
    assert bool(reg.loc["C1", "voted"]) is True  # communities.scheme_vote_passed
    assert pd.isna(reg.loc["C2", "voted"])  # unknown: left for the bureau
    assert bool(reg.loc["C2", "fee_agreed"]) is False
    assert bool(reg.loc["C1", "funds_committed"]) is True  # 100 committed of 100
    assert bool(reg.loc["C2", "funds_committed"]) is False  # 150 of 200
    # a renovation under way was voted on a scheme, with the fee agreed (底线(七)(八))
    assert [bool(reg.loc["C3", c]) for c in ("scheme_drafted", "voted", "fee_agreed")] == [
        True,
        True,
        True,
    ]
    # what only the bureau knows stays blank, so nothing is ready yet
    for column in ("publicised", "reviewed", "approvals"):
        assert reg[column].isna().all()
    assert not reg["ready"].any()
    assert reg["readiness_note"].isna().all()


def test_build_does_not_modify_inputs() -> None:
    communities, frames = _communities(), _frames()
    saved = communities.copy()
    greg.build_register(communities, frames)
    pd.testing.assert_frame_equal(communities, saved)


def test_build_needs_eligibility() -> None:
    with pytest.raises(LayerError, match="eligibility"):
        greg.build_register(_communities(), {})


def test_round_trip_chinese_headers_and_yes_no(register: pd.DataFrame, tmp_path: Path) -> None:
    path = tmp_path / "项目储备库.xlsx"
    greg.write_register(register, path)
    sheet = openpyxl.load_workbook(path)[greg.REGISTER_SHEET]
    headers = [c.value for c in sheet[1]]
    assert headers[:4] == ["小区编号", "小区名称", "街道", "项目状态"]
    assert "估算投资（万元）" in headers
    assert "方案已表决通过" in headers
    assert "就绪" in headers
    voted = headers.index("方案已表决通过") + 1
    assert [sheet.cell(row=r, column=voted).value for r in (2, 3, 4)] == ["是", None, "是"]
    assert sheet.cell(row=3, column=2).data_type == "s"  # a formula-like name stays text
    pd.testing.assert_frame_equal(greg.read_register(path), register)


def test_write_is_deterministic(register: pd.DataFrame, tmp_path: Path) -> None:
    greg.write_register(register, tmp_path / "a.xlsx")
    greg.write_register(register, tmp_path / "b.xlsx")
    assert (tmp_path / "a.xlsx").read_bytes() == (tmp_path / "b.xlsx").read_bytes()


def _bureau_fills(register: pd.DataFrame) -> pd.DataFrame:
    """C1 made fully ready by the bureau; C2 has a note and a publicity."""
    reg = register.copy()
    c1 = reg["community_id"] == "C1"
    for column in greg.READINESS:
        reg.loc[c1, column] = True
    reg.loc[c1, "readiness_note"] = "已联合审查、待开工"
    reg.loc[c1, "updated"] = pd.Timestamp("2026-10-09")
    c2 = reg["community_id"] == "C2"
    reg.loc[c2, "publicised"] = True
    reg.loc[c2, "funds_committed"] = True  # the bureau knows of money the run does not
    out: pd.DataFrame = reg
    return out


def test_previous_readiness_kept(register: pd.DataFrame, tmp_path: Path) -> None:
    path = tmp_path / "项目储备库.xlsx"
    greg.write_register(_bureau_fills(register), path)
    previous = greg.read_register(path)
    assert bool(previous.set_index("community_id").loc["C1", "ready"]) is True
    again = greg.build_register(_communities(), _frames(), previous=previous).set_index(
        "community_id"
    )
    assert bool(again.loc["C1", "reviewed"]) is True  # not overwritten by the run's blank
    assert bool(again.loc["C1", "ready"]) is True
    assert again.loc["C1", "readiness_note"] == "已联合审查、待开工"
    assert again.loc["C1", "updated"] == pd.Timestamp("2026-10-09")
    assert bool(again.loc["C2", "publicised"]) is True
    assert bool(again.loc["C2", "funds_committed"]) is True  # the bureau's 是 beats the run's 否
    assert pd.isna(again.loc["C2", "voted"])
    assert not bool(again.loc["C2", "ready"])


def test_previous_rows_stay_in_the_register() -> None:
    previous = pd.DataFrame({"community_id": ["C4"], "status": ["储备"], "reviewed": ["是"]})
    for column in greg.READINESS:
        previous[column] = previous.get(column, None)
    reg = greg.build_register(_communities(), _frames(), previous=previous)
    assert list(reg["community_id"]) == ["C1", "C2", "C3", "C4"]
    assert bool(reg.set_index("community_id").loc["C4", "reviewed"]) is True


def test_previous_with_unknown_community() -> None:
    previous = pd.DataFrame({"community_id": ["C9"], "status": ["储备"]})
    for column in greg.READINESS:
        previous[column] = None
    with pytest.raises(LayerError, match="C9"):
        greg.build_register(_communities(), _frames(), previous=previous)


def test_read_aliases_csv(tmp_path: Path) -> None:
    path = tmp_path / "储备库.csv"
    text = (
        "编号,状态,计划年份,改造方案已编制,已公示,表决通过,物业费已确认,已联合审查,资金落实,"
        "立项已批复,备注\n"
        "C2,储备,2028年,是,是,是,是,是,是,是,待开工\n"
        "C1,新开工,2027,是,否,是,,,,,\n"
    )
    path.write_text(text, encoding="utf-8-sig")
    reg = greg.read_register(path).set_index("community_id")
    assert reg.loc["C2", "planned_year"] == 2028
    assert reg.loc["C2", "readiness_note"] == "待开工"
    assert bool(reg.loc["C2", "ready"]) is True
    assert bool(reg.loc["C1", "publicised"]) is False
    assert not bool(reg.loc["C1", "ready"])


def _write_rows(path: Path, header: str, *rows: str) -> Path:
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


_FULL = "小区编号,项目状态,方案已编制,方案已公示,方案已表决通过,物业管理模式和物业费已书面确认,"
_FULL += "方案已联合审查,资金已落实,立项审批手续已办结"


def test_read_old_register_missing_readiness(tmp_path: Path) -> None:
    path = _write_rows(tmp_path / "old.csv", "小区编号,项目状态,方案已表决通过", "C1,储备,是")
    with pytest.raises(ValidationError) as err:
        greg.read_register(path)
    message = str(err.value)
    for shown in ("方案已编制 (scheme_drafted)", "方案已联合审查 (reviewed)", "approvals"):
        assert shown in message
    (issue,) = err.value.report.errors
    assert issue.column == "scheme_drafted,publicised,fee_agreed,reviewed,funds_committed,approvals"
    assert "重新导出" in message
    assert "re-export" in message
    assert isinstance(err.value, LayerError)


def test_read_duplicate_ids(tmp_path: Path) -> None:
    path = _write_rows(
        tmp_path / "dup.csv", _FULL, "C1,储备,,,,,,,", "C1,在建,,,,,,,", "C2,储备,,,,,,,"
    )
    with pytest.raises(ValidationError, match=r"'C1' appears 2 times \(rows 1, 2\)"):
        greg.read_register(path)


def test_read_bad_yes_no(tmp_path: Path) -> None:
    path = _write_rows(tmp_path / "maybe.csv", _FULL, "C1,储备,是,也许,,,,,", "C2,储备,,,,,,,")
    with pytest.raises(ValidationError) as err:
        greg.read_register(path)
    (issue,) = err.value.report.errors
    assert (issue.row, issue.column) == ("C1", "publicised")
    assert "也许" in issue.problem


def test_write_refuses_register_without_readiness(tmp_path: Path) -> None:
    with pytest.raises(SchemaError, match=r"方案已编制 \(scheme_drafted\)"):
        greg.write_register(pd.DataFrame({"community_id": ["C1"]}), tmp_path / "x.xlsx")


def test_apply_register_updates_communities(register: pd.DataFrame) -> None:
    reg = register.copy()
    c2 = reg["community_id"] == "C2"
    reg.loc[c2, "status"] = "新开工"
    reg.loc[c2, "start_year"] = 2027
    reg.loc[c2, "voted"] = True
    reg.loc[c2, "fee_agreed"] = True
    c1 = reg["community_id"] == "C1"
    for column in greg.READINESS:
        reg.loc[c1, column] = True
    communities = _communities()
    saved = communities.copy()
    out = greg.apply_register(communities, reg).set_index("community_id")
    pd.testing.assert_frame_equal(communities, saved)  # input untouched
    assert out.loc["C2", "status"] == "新开工"
    assert out.loc["C2", "start_year"] == 2027
    assert bool(out.loc["C2", "scheme_vote_passed"]) is True
    assert bool(out.loc["C2", "property_fee_agreed"]) is True  # was 否
    assert out.loc["C1", "planned_year"] == 2027
    assert out.loc["C3", "status"] == "在建"  # same as before
    assert out["ready"].tolist() == [True, False, False, False]  # C4 is not in the register
    assert out["ready"].dtype == bool
    assert str(out["start_year"].dtype) == "Int64"  # the layer's types are kept


def test_apply_register_unknown_and_duplicate_ids(register: pd.DataFrame) -> None:
    extra = pd.concat(
        [register, pd.DataFrame({"community_id": ["C8", "C9"], "status": ["储备", "储备"]})]
    )
    with pytest.raises(LayerError, match="C8、C9"):
        greg.apply_register(_communities(), extra)
    twice = pd.concat([register, register.iloc[[0]]])
    with pytest.raises(LayerError, match=r"C1 出现多次"):
        greg.apply_register(_communities(), twice)


def test_a_register_no_under_voted_means_not_yet_not_a_failed_vote() -> None:
    """否 under 方案已表决通过 is a step still to do; only 是 reaches scheme_vote_passed."""
    comm = pd.DataFrame(
        {
            "community_id": ["C1", "C2", "C3"],
            "status": ["储备"] * 3,
            "scheme_vote_passed": [None, False, None],
        }
    )
    reg = pd.DataFrame({"community_id": ["C1", "C2", "C3"], "voted": [False, False, True]})
    out = greg.apply_register(comm, reg)
    # C1 waits (not a failed vote), C2's failed vote stays from the layer, C3 has passed
    assert out["scheme_vote_passed"].tolist() == [None, False, True]
