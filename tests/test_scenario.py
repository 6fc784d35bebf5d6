from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from gisplan import ScenarioError, load_scenario, scenario
from gisplan.access import AccessOptions
from gisplan.catalogue import SchemeOptions
from gisplan.eligibility import EligibilityRules
from gisplan.finance import FinancingOptions, FundingRules
from gisplan.gaps import GapOptions
from gisplan.maps import MapOptions
from gisplan.plan import PriorityWeights
from gisplan.publish import PublishOptions
from gisplan.scenario import (
    AccessSection,
    BundlesSection,
    EligibilitySection,
    FinanceSection,
    MapsSection,
    OptionsLink,
    PlanSection,
    PublishSection,
    SchemesSection,
    SitingSection,
    scenario_from_dict,
)
from gisplan.siting import SitingOptions


def _write(folder: Path, text: str) -> Path:
    (folder / "a.gpkg").write_bytes(b"")
    path = folder / "s.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_short_and_long_forms_resolve_relative_to_file(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "name: 测试\ndatum: CGCS2000\nlayers:\n  communities: a.gpkg\n"
        "  facilities: {path: a.gpkg, layer: f, datum: GCJ-02}\n",
    )
    sc = load_scenario(path)
    assert sc.name == "测试"
    assert sc.layers.communities.path == (tmp_path / "a.gpkg").resolve()
    assert sc.layers.facilities is not None
    assert sc.layers.facilities.layer == "f"
    assert sc.layer_datum("facilities") == "GCJ-02"
    assert sc.layer_datum("communities") == "CGCS2000"
    assert sc.output_dir() == Path("outputs") / "测试"
    assert [k for k, _ in sc.layers.items()] == ["communities", "facilities"]


def test_table_layers_take_no_datum_or_coordinates(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "datum: CGCS2000\nlayers:\n  communities: a.gpkg\n  commitments: a.gpkg\n"
        "  revenues: {path: a.gpkg, layer: 经营性设施}\n",
    )
    sc = load_scenario(path)
    assert [k for k, _ in sc.layers.items()] == ["communities", "commitments", "revenues"]
    assert sc.layer_datum("communities") == "CGCS2000"
    assert sc.layer_datum("commitments") is None  # a table has no coordinates
    assert sc.layers.revenues is not None
    assert sc.layers.revenues.layer == "经营性设施"
    path.write_text(
        "layers:\n  communities: a.gpkg\n  commitments: {path: a.gpkg, datum: WGS84, x: lon}\n",
        encoding="utf-8",
    )
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert info.value.problems == [
        (
            "layers.commitments",
            (
                "datum and x given for a table without coordinates "
                "(got {'path': 'a.gpkg', 'datum': 'WGS84', 'x': 'lon'})"
            ),
            "remove them (a table needs path, and layer for a sheet or GeoPackage table)",
        )
    ]


def test_name_defaults_to_file_stem(tmp_path: Path) -> None:
    assert load_scenario(_write(tmp_path, "layers: {communities: a.gpkg}")).name == "s"


def test_misspelt_key_suggests_the_right_one(tmp_path: Path) -> None:
    path = _write(tmp_path, "name: x\nlayers:\n  comunities: a.gpkg\n")
    with pytest.raises(ScenarioError, match="did you mean 'communities'") as info:
        load_scenario(path)
    # one problem: the misspelt key (not also "communities is missing")
    assert [key for key, _, _ in info.value.problems] == ["layers.comunities"]


def test_every_problem_reported_at_once(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "name: x\nmetirc_crs: auto\ndatum: 火星\n"
        "layers:\n  communities: missing.gpkg\n  facilities: a.gpkg\n",
    )
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    keys = {key for key, _, _ in info.value.problems}
    assert keys == {"metirc_crs", "datum", "layers.communities.path"}
    text = str(info.value)
    assert "did you mean 'metric_crs'" in text
    assert "missing.gpkg" in text
    assert "3 problem(s)" in text


def test_path_that_does_not_exist(tmp_path: Path) -> None:
    path = _write(tmp_path, "layers: {communities: nowhere/x.gpkg}")
    with pytest.raises(ScenarioError, match=r"file not found: .*nowhere") as info:
        load_scenario(path)
    [(key, problem, fix)] = info.value.problems
    assert key == "layers.communities.path"
    assert "relative to the scenario file's folder" in problem
    assert fix == "check the spelling or give an absolute path"


def test_empty_scenario_file(tmp_path: Path) -> None:
    path = _write(tmp_path, "# nothing yet\n")
    with pytest.raises(ScenarioError, match="the scenario file is empty") as info:
        load_scenario(path)
    assert "layers: {communities:" in info.value.problems[0][2]


def test_geographic_metric_crs_rejected(tmp_path: Path) -> None:
    path = _write(tmp_path, "metric_crs: EPSG:4326\nlayers: {communities: a.gpkg}")
    with pytest.raises(ScenarioError, match="not a projected CRS in metres"):
        load_scenario(path)


def test_missing_scenario_file_and_bad_yaml(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="scenario file not found"):
        load_scenario(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("layers: [unclosed", encoding="utf-8")
    with pytest.raises(ScenarioError, match="not valid YAML"):
        load_scenario(bad)


def test_scenario_is_frozen(tmp_path: Path) -> None:
    sc = load_scenario(_write(tmp_path, "layers: {communities: a.gpkg}"))
    with pytest.raises(ValueError, match="frozen"):
        sc.name = "y"  # type: ignore[misc]


def test_scenario_from_dict_requires_mapping() -> None:
    with pytest.raises(ScenarioError, match="mapping"):
        scenario_from_dict(["not", "a", "mapping"])  # type: ignore[arg-type]


def _access(tmp_path: Path, section: str, *, network: bool = True) -> Path:
    layers = "layers: {communities: a.gpkg, facilities: a.gpkg"
    layers += ", network: a.gpkg}\n" if network else "}\n"
    return _write(tmp_path, layers + "access: " + section + "\n")


def test_access_section_defaults(tmp_path: Path) -> None:
    sc = load_scenario(_access(tmp_path, "{}"))
    assert sc.access is not None
    assert sc.access.types == "all"
    assert sc.access.max_snap_m == 200.0
    assert sc.access.straight_line_factor is None


def test_access_unknown_code_gets_the_closest(tmp_path: Path) -> None:
    path = _access(tmp_path, "{types: [kindergarden, nursery], weights: {nursery: 3}}")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    [(key, problem, fix)] = info.value.problems
    assert key == "access"
    assert problem == "facility codes not in the standards table: 'kindergarden'"
    assert fix == "closest: kindergarden → kindergarten"


def test_access_bad_values_all_at_once(tmp_path: Path) -> None:
    path = _access(tmp_path, "{radius_m: {nursery: -3}, max_snap_m: 0, levels: [20min]}")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    keys = {key for key, _, _ in info.value.problems}
    assert keys == {"access.radius_m", "access.max_snap_m", "access.levels.0"}
    assert "radii must be positive metres: nursery" in str(info.value)


def test_access_needs_a_network_unless_straight_line_is_stated(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="access: needs a network layer") as info:
        load_scenario(_access(tmp_path, "{}", network=False))
    assert info.value.problems[0][0] == "access"
    sc = load_scenario(_access(tmp_path, "{straight_line_factor: 1.3}", network=False))
    assert sc.access is not None
    assert sc.access.straight_line_factor == 1.3


def test_eligibility_section_preset_and_overrides(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "layers: {communities: a.gpkg}\n"
        "eligibility: {preset: linyi, plan_year: 2027, min_approval: 0.7}\n",
    )
    sc = load_scenario(path)
    assert sc.eligibility is not None
    rules = sc.eligibility.rules()
    assert rules.cutoff.isoformat() == "2005-12-31"  # the Linyi preset
    assert (rules.plan_year, rules.min_approval) == (2027, 0.7)
    assert rules.min_participation == pytest.approx(2 / 3)  # preset default kept


def test_eligibility_section_bad_values_at_once(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "layers: {communities: a.gpkg}\neligibility: {preset: linyy, min_participation: 67}\n",
    )
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    problems = {key: (problem, fix) for key, problem, fix in info.value.problems}
    assert set(problems) == {
        "eligibility.preset",
        "eligibility.plan_year",
        "eligibility.min_participation",
    }
    assert "linyi" in " ".join(problems["eligibility.preset"])
    assert "write 0.67, not 67" in " ".join(problems["eligibility.min_participation"])


def test_schemes_section_defaults_and_unknown_items(tmp_path: Path) -> None:
    sc = load_scenario(_write(tmp_path, "layers: {communities: a.gpkg}\nschemes: {}\n"))
    assert sc.schemes is not None
    options = sc.schemes.options()
    # menu-based: no class taken whole (不搞一刀切), nothing excluded by number
    assert (options.classes, options.exclude, options.unsurveyed) == ((), (), "verify")
    path = _write(tmp_path, "layers: {communities: a.gpkg}\nschemes: {include: [37]}\n")
    with pytest.raises(ScenarioError, match="37") as info:
        load_scenario(path)
    assert info.value.problems[0][0] == "schemes"


def _siting(tmp_path: Path, section: str, *, sites: bool = True) -> Path:
    layers = "layers: {communities: a.gpkg, facilities: a.gpkg, network: a.gpkg"
    layers += ", sites: a.gpkg}\n" if sites else "}\n"
    return _write(
        tmp_path, layers + "access: {radius_m: {nursery: 250}}\nsiting: " + section + "\n"
    )


def test_siting_section_gives_siting_options(tmp_path: Path) -> None:
    path = _siting(tmp_path, "{types: [nursery], n_new: 2, model: mclp, weight: one_old_one_young}")
    sc = load_scenario(path)
    assert sc.siting is not None
    options = sc.siting.options(max_snap_m=150)
    assert (options.types, options.model, options.limit_for("nursery")) == (("nursery",), "mclp", 2)
    assert (options.weight, options.max_snap_m) == ("one_old_one_young", 150)


def test_siting_section_problems(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario(_siting(tmp_path, "{types: [nursery], model: pmedian, budjet_wan_yuan: 5}"))
    problems = {key: (problem, fix) for key, problem, fix in info.value.problems}
    assert set(problems) == {"siting.model", "siting.budjet_wan_yuan"}
    assert "did you mean 'budget_wan_yuan'?" in problems["siting.budjet_wan_yuan"][1]
    # mclp without a limit: the options' own check, with its fix
    with pytest.raises(ScenarioError, match="set n_new or budget_wan_yuan, or use lscp"):
        load_scenario(_siting(tmp_path, "{types: [nursery], model: mclp}"))
    with pytest.raises(
        ScenarioError, match="siting: facility codes not in the standards table: 'nursrey'"
    ) as info:
        load_scenario(_siting(tmp_path, "{types: [nursrey], n_new: 1}"))
    assert info.value.problems[0] == (
        "siting",
        "facility codes not in the standards table: 'nursrey'",
        "closest: nursrey → nursery / nursing_home",
    )
    with pytest.raises(ScenarioError, match="siting: needs an access section and a sites layer"):
        load_scenario(_siting(tmp_path, "{n_new: 1}", sites=False))


def _bundles(tmp_path: Path, section: str) -> Path:
    return _write(
        tmp_path,
        "layers: {communities: a.gpkg, projects: a.gpkg}\nschemes: {}\nfinance: {}\n"
        "bundles: " + section + "\n",
    )


def test_bundles_section_options(tmp_path: Path) -> None:
    sc = load_scenario(
        _bundles(
            tmp_path,
            "{order: [large_area, government_led], large_area: {margin_wan_yuan: 50, "
            "max_members: 6}, cross_area: {allow_split: true}}",
        )
    )
    assert sc.bundles is not None
    assert sc.bundles.order == ("large_area", "government_led")
    options = sc.bundles.bundle_options()
    assert (options.margin_wan_yuan, options.max_members, options.max_diameter_m) == (50, 6, 2000)
    assert sc.bundles.cross_options().allow_split is True
    assert load_scenario(_bundles(tmp_path, "{}")).bundles.tolerance_m == 30  # type: ignore[union-attr]


def test_bundles_section_problems(tmp_path: Path) -> None:
    path = _bundles(
        tmp_path,
        "{order: [large_area, large_area, selfbalance], tolerance_m: -1, "
        "large_area: {max_member: 3}}",
    )
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    problems = {key: (problem, fix) for key, problem, fix in info.value.problems}
    assert set(problems) == {"bundles.order", "bundles.tolerance_m", "bundles.large_area"}
    assert "selfbalance not a financing mode" in problems["bundles.order"][0]
    assert "max_member" in str(info.value)
    assert "did you mean 'max_members'?" in str(info.value)
    with pytest.raises(ScenarioError, match=r"BundleOptions\.max_members = 1"):
        load_scenario(_bundles(tmp_path, "{large_area: {max_members: 1}}"))
    with pytest.raises(ScenarioError, match="large_area listed twice"):
        load_scenario(_bundles(tmp_path, "{order: [large_area, large_area]}"))
    path = _write(
        tmp_path, "layers: {communities: a.gpkg}\nschemes: {}\nfinance: {}\nbundles: {}\n"
    )
    with pytest.raises(
        ScenarioError, match="bundles: needs a finance section and a projects layer"
    ):
        load_scenario(path)


# --------------------------------------------------------------------------- sections ↔ options

SECTIONS = [
    AccessSection,
    EligibilitySection,
    SchemesSection,
    FinanceSection,
    BundlesSection,
    PlanSection,
    SitingSection,
    MapsSection,
    PublishSection,
]

#: Fields of a section that are not options of a step (what to run, files, scheduling).
OWN_FIELDS = {
    "AccessSection": {"types", "levels", "service_areas", "boundary"},
    "EligibilitySection": {"preset"},
    "SchemesSection": {"use_gaps", "catalogue"},
    "PlanSection": {
        "rollout_years",
        "build_years",
        "targets",
        "publicity_start",
        "publicity_working_days",
        "calendar",
        "register_file",
    },
}


def _with_required(section: type[BaseModel]) -> BaseModel:
    """The section with only its required fields given."""
    fill = {"plan_year": 2027, "budget_wan_yuan": 100.0}
    given = {k: fill[k] for k, f in section.model_fields.items() if f.is_required()}
    return section.model_validate(given)


def _has_default(f: dataclasses.Field[Any]) -> bool:
    return f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING


@pytest.mark.parametrize("section", SECTIONS, ids=lambda s: s.__name__)
def test_every_option_is_reachable_from_yaml_with_its_default(section: type[BaseModel]) -> None:
    """Each options field is a section field, or a key of its mapping, with the same default."""
    links: tuple[OptionsLink, ...] = section.links  # type: ignore[attr-defined]
    built = _with_required(section)
    owned = set(OWN_FIELDS.get(section.__name__, set()))
    nested = {
        link.via.removeprefix("mapping:") for link in links if link.via.startswith("mapping:")
    }
    for link in links:
        cls = link.options_class()
        if link.via.startswith("mapping:"):
            key = link.via.removeprefix("mapping:")
            owned.add(key)
            assert getattr(built, key) == {}
            # an empty mapping builds the options with every default
            assert scenario._mapping_options(link.owner, {}, key) == cls()
            continue
        for f in dataclasses.fields(cls):
            if f.name in link.exempt:
                assert f.name not in section.model_fields
                continue
            name = link.rename.get(f.name, f.name)
            owned.add(name)
            if name in nested:  # options of their own, checked by that mapping's link
                continue
            assert name in section.model_fields, f"{section.__name__} lacks {cls.__name__}.{f.name}"
            value = getattr(built, name)
            if link.via == "overrides" and not section.model_fields[name].is_required():
                assert value is None, f"{section.__name__}.{name} must default to the preset's"
            elif link.via == "overrides":
                assert name == "plan_year"  # a scenario names its year: reproducible runs
            elif _has_default(f):
                assert value == scenario._option_default(link.owner, f.name), name
            else:
                assert section.model_fields[name].is_required(), name
    # no section field without an owner: a stray field would be a dead YAML key
    assert set(section.model_fields) == owned


def test_section_options_equal_the_options_defaults() -> None:
    """A notebook calling a step with default options computes what a scenario run does."""
    assert AccessSection().access_options() == AccessOptions()
    assert AccessSection().gap_options() == GapOptions()
    assert SchemesSection().options() == SchemeOptions()
    assert SchemesSection().options().classes == ()  # menu-based schemes by default
    assert BundlesSection().financing_options() == FinancingOptions()
    assert SitingSection().options() == SitingOptions()
    assert MapsSection().options() == MapOptions()
    assert PublishSection().options() == PublishOptions()
    assert FinanceSection().funding_rules() == FundingRules()
    assert PlanSection(budget_wan_yuan=5).priority_weights() == PriorityWeights()
    national = EligibilitySection(plan_year=2027).rules()
    assert national == dataclasses.replace(EligibilityRules(), plan_year=2027)
