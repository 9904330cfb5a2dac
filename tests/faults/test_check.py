"""The fault suite's identity checks can fail (issue 21, item 3): `faults.check.judge` fed a made-up state that
matches, then the same state with one acknowledged event missing from its store, one missing from its topic,
and one cross-service effect with the wrong target. Pure: no broker, no database."""

import copy
from uuid import UUID, uuid4, uuid5

from faults.check import APPLIED, GRANTED, PLAN_APPLIED, SCHEDULED, State, Store, Stored, Topic, judge
from faults.load import Tally, subject

ORGANIZATION, PLAN, INSPECTION, COE = (str(uuid4()) for _ in range(4))
SUPERVISOR, TRAINEE = str(uuid4()), str(uuid4())


def event(service: str, stream: str, version: int, type: str, data: dict | None = None, actor: str | None = None):
    return Stored(str(uuid4()), stream, version, actor or subject(service), type, data or {})


def matching() -> tuple[State, dict[str, Tally]]:
    """The registry applied for and granted a permit, the inspection scheduled its first inspection under the id
    derived from the grant, the accreditation took a plan application, the visa a COE application: all stored,
    on the topics, applied by every subscriber, with the effects in place."""
    granted = event("registry", ORGANIZATION, 2, GRANTED)
    first_inspection = str(uuid5(UUID(granted.id), "inspection"))
    events = {
        "registry": [event("registry", ORGANIZATION, 1, APPLIED), granted],
        "accreditation": [
            event(
                "accreditation",
                PLAN,
                1,
                PLAN_APPLIED,
                {"supervising_organization_id": SUPERVISOR, "trainee_id": TRAINEE},
            )
        ],
        "inspection": [
            event("inspection", INSPECTION, 1, SCHEDULED, {"reason": "complaint"}),
            event("inspection", first_inspection, 1, SCHEDULED, {"reason": "permit_granted"}, actor="otit"),
        ],
        "visa": [event("visa", COE, 1, "titp.visa.CoeApplied.v1")],
    }
    every_id = {e.id for stored in events.values() for e in stored}
    state = State(
        stores={name: Store(stored, inbox=set(every_id)) for name, stored in events.items()},
        topics={name: Topic({e.id for e in stored}) for name, stored in events.items()},
        dead_lettered=dict.fromkeys(events, 0),
        effects={
            "first_inspection": {first_inspection: [["supervising_organization", ORGANIZATION]]},
            "inspection_organization": {ORGANIZATION: ["supervising_organization"]},
            "accreditation_permit": {ORGANIZATION: ["active"]},
            "visa_plan": {PLAN: [[SUPERVISOR, TRAINEE]]},
        },
    )
    tallies = {}
    for name, stored in events.items():
        tally = tallies[name] = Tally()
        tally.acknowledged = [(e.stream_id, e.version) for e in stored if e.actor == subject(name)]
        tally.sent = len(tally.acknowledged)
    return state, tallies


def test_a_matching_state_passes_with_every_figure_zero():
    state, tallies = matching()
    report = judge(state, tallies)
    assert report["problems"] == []
    assert report["figures"] == {
        "acknowledged": 5,
        "missing_in_store": 0,
        "missing_on_topic": 0,
        "duplicates_on_topic": 0,
        "effects_missing": 0,
        "effects_wrong_target": 0,
        "effects_doubled": 0,
    }
    assert report["effects"]["first_inspection"] == {"expected": 1, "missing": 0, "wrong_target": 0}


def test_an_acknowledged_event_missing_from_its_store_fails():
    state, tallies = matching()
    state.stores["accreditation"].events = []  # the plan application was acknowledged but is not stored
    report = judge(state, tallies)
    assert report["problems"]
    assert report["figures"]["missing_in_store"] == 1
    assert report["accreditation"]["stored"]["acknowledged_missing"] == 1


def test_an_event_missing_from_its_topic_fails_and_repeats_are_counted():
    state, tallies = matching()
    granted = state.stores["registry"].events[1].id
    state.topics["registry"] = Topic({state.stores["registry"].events[0].id}, duplicates=2)
    report = judge(state, tallies)
    assert any("registry: topic holds 1 events, store 2" in p for p in report["problems"])
    assert report["figures"]["missing_on_topic"] == 1 and report["figures"]["duplicates_on_topic"] == 2
    assert report["registry"]["topic"]["acknowledged_missing"] == 1, granted


def test_a_first_inspection_for_the_wrong_organization_fails_though_the_counts_match():
    state, tallies = matching()
    wrong = copy.deepcopy(state.effects)
    [key] = wrong["first_inspection"]
    wrong["first_inspection"][key] = [["supervising_organization", str(uuid4())]]
    state.effects = wrong
    report = judge(state, tallies)
    assert report["effects"]["permits_granted"] == report["effects"]["first_inspections_scheduled"] == 1
    assert report["figures"]["effects_wrong_target"] == 1 and report["figures"]["effects_missing"] == 0
    assert any("first_inspection with the wrong target" in p for p in report["problems"])


def test_a_missing_or_doubled_effect_fails():
    state, tallies = matching()
    state.effects["visa_plan"] = {}  # the visa never heard of the plan
    state.effects["accreditation_permit"][ORGANIZATION].append("active")  # two rows (made up)
    report = judge(state, tallies)
    assert report["figures"]["effects_missing"] == 1 and report["figures"]["effects_doubled"] == 1
    assert len(report["problems"]) == 2
