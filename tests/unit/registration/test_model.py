"""Registration's aggregates without I/O: rules, events, replay."""

from __future__ import annotations

import pytest
from doorstep_contracts.registration import (
    AreaCreated,
    ResidentErased,
    ResidentMovedOut,
    ResidentTransferred,
    ResidentVerifiedSkillAdded,
)
from doorstep_shared.domain import Conflict, InvalidInput
from registration.domain.model import Area, Partner, Resident, Staff, check_availability


def city() -> Area:
    return Area.create("3301", "Hangzhou", "city", None)


def tree() -> dict[str, Area]:
    c = city()
    d = Area.create("330102", "Shangcheng", "district", c)
    s = Area.create("330102001", "Street", "street", d)
    m = Area.create("330102001001", "Community", "community", s)
    g = Area.create("330102001001001", "Grid 1", "grid", m)
    return {"city": c, "district": d, "street": s, "community": m, "grid": g}


def test_area_tree_codes_nest_by_prefix() -> None:
    areas = tree()
    assert areas["grid"].pending == [AreaCreated("330102001001001", "Grid 1", "grid", "330102001001")]
    with pytest.raises(InvalidInput) as exc:
        Area.create("999", "Elsewhere", "district", areas["city"])
    assert exc.value.field == "code"


@pytest.mark.parametrize(
    ("level", "parent_key", "field"),
    [("grid", "street", "parent_code"), ("city", "city", "parent_code"), ("hamlet", "city", "level")],
)
def test_area_levels_follow_the_tree(level: str, parent_key: str, field: str) -> None:
    areas = tree()
    with pytest.raises(InvalidInput) as exc:
        Area.create(areas[parent_key].id + "9", "x", level, areas[parent_key])
    assert exc.value.field == field


def resident(**over: object) -> Resident:
    facts: dict[str, object] = {
        "community_code": "330102001001",
        "grid_code": "330102001001001",
        "building": "1",
        "unit": "101",
        "hukou": "non_local",
        "sex": "female",
        "birth_year": 1988,
        "tags": ["stay_at_home_parent"],
        "skills": ["Sewing ", "sewing"],
        "availability": [{"days": ["mon", "fri"], "start": "08:30", "end": "16:30", "place": "home"}],
        "job_preferences": {"types": ["piecework"], "min_pay_fen": 1500, "pay_unit": "hour"},
        "employment_status": "unemployed",
        "consent": {"employment_matching": True, "share_with_partners": False},
        "pii": {"name_enc": "v1:x"},
        "id_hash": "h",
    }
    facts.update(over)
    return Resident.register("r1", **facts)


def test_register_normalises_skills_and_replays_to_the_same_state() -> None:
    r = resident()
    (event,) = r.collect()
    assert event.skills == ["sewing"]
    again = Resident.replay("r1", [event])
    assert (again.grid_code, again.skills, again.version) == ("330102001001001", ["sewing"], 1)


@pytest.mark.parametrize(
    ("over", "field"),
    [
        ({"tags": ["vip"]}, "tags"),
        ({"hukou": "foreign"}, "hukou"),
        ({"grid_code": "330102001002001"}, "grid_code"),
        ({"availability": [{"days": ["mon"], "start": "16:30", "end": "08:30"}]}, "availability.0.end"),
        ({"availability": [{"days": ["someday"], "start": "08:30", "end": "09:30"}]}, "availability.0.days"),
        ({"job_preferences": {"min_pay_fen": -1}}, "job_preferences.min_pay_fen"),
    ],
)
def test_register_rejects_bad_facts_naming_the_field(over: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as exc:
        resident(**over)
    assert exc.value.field == field


def test_lifecycle_moves_transfer_move_out_and_erase() -> None:
    r = resident()
    r.move_within_community("330102001001002", "2", "202")
    with pytest.raises(InvalidInput):
        r.move_within_community("330102001002001", "2", "202")
    r.transfer("330102001002", "330102001002001", "3", "303")
    assert isinstance(r.pending[-1], ResidentTransferred) and r.community_code == "330102001002"
    r.move_out("left the city")
    assert isinstance(r.pending[-1], ResidentMovedOut)
    with pytest.raises(Conflict):
        r.update_tags(["elderly"])
    r.erase()
    assert isinstance(r.pending[-1], ResidentErased)
    with pytest.raises(Conflict):
        r.erase()


def test_verified_skill_is_recorded_once() -> None:
    r = resident()
    assert r.add_verified_skill("Chinese knot", "training", "C-1") is True
    assert r.add_verified_skill("chinese knot", "training", "C-2") is False
    assert [type(e) for e in r.collect()][-1] is ResidentVerifiedSkillAdded


def test_consent_is_merged_and_revocable() -> None:
    r = resident()
    r.change_consent({"share_with_partners": True})
    r.change_consent({"employment_matching": False})
    assert r.consent == {"employment_matching": False, "share_with_partners": True}


def test_partner_states() -> None:
    p = Partner.register("p1", "Flowers", "piecework_processor", "91350100M000100Y43", "330102001001")
    with pytest.raises(Conflict):
        p.suspend("not yet approved")
    p.approve("hash1")
    with pytest.raises(Conflict):
        p.approve("hash2")
    p.rotate_key("hash3")
    p.suspend("complaints")
    p.approve("hash4")  # reinstated with a fresh key
    assert p.status == "approved"
    with pytest.raises(InvalidInput):
        Partner.register("p2", "X", "bank", "91350100M000100Y43", "330102001001")


def test_staff_rules() -> None:
    s = Staff.create("s1", "gw.li", "grid_worker", ["330102001001001", "330102001001001"])
    assert s.areas == ["330102001001001"]
    with pytest.raises(InvalidInput):
        Staff.create("s2", "Bad Name", "grid_worker", ["330102001001001"])
    with pytest.raises(InvalidInput):
        Staff.create("s3", "nobody", "grid_worker", [])
    with pytest.raises(InvalidInput):
        Staff.create("s4", "boss", "emperor", ["3301"])


def test_availability_days_are_ordered() -> None:
    (w,) = check_availability([{"days": ["fri", "mon"], "start": "09:00", "end": "11:00"}])
    assert w == {"days": ["mon", "fri"], "start": "09:00", "end": "11:00", "place": "any"}
