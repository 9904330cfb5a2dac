"""A trainee's complaint leads to an extraordinary inspection of the employer (DOMAIN §7, issue 20), over REST and
Kafka only.

The registry registers an employer under a supervising organization; the inspection service hears of it. A trainee
calls OTIT's hotline and complains, in Vietnamese, of abuse at the employer: an officer records the consultation,
records what OTIT did (not closed yet), and opens an extraordinary inspection of the employer from it. The
inspection is on the worklist (reason: complaint, naming the consultation); the consultation shows it, its history
is on titp.inspection.v1, and the statistics count it by subject and language. No organization reads it.
"""

import json
from datetime import UTC, datetime

from cloudevents.core.bindings.kafka import KafkaMessage, from_structured_event

from tests.helpers import eventually, post, read_topic_from, registered_partners, topic_end_offsets

WAIT = 30  # seconds for an effect to cross Kafka into another service
CONSULTATIONS = "/v1/consultations"
SUMMARY = "Tổ trưởng thường xuyên quát mắng và đánh thực tập sinh khi làm sai."


async def test_a_complaint_of_abuse_in_vietnamese_opens_an_extraordinary_inspection_of_the_employer(
    start_service, token, kafka_bootstrap
):
    registry, inspection = await start_service("registry"), await start_service("inspection")
    officer, auditor = token("otit", subject="officer-ito"), token("auditor")
    partners = await registered_partners(registry, officer)
    offsets = await topic_end_offsets(kafka_bootstrap, "titp.inspection.v1")

    # The officer records the call: in Vietnamese, about abuse, naming the employer and its supervising organization.
    body = {
        "received_on": "2027-05-12",
        "language": "vi",
        "channel": "phone",
        "subject": "abuse_or_harassment",
        "summary": SUMMARY,
        "implementing_organization_id": partners.implementing,
        "supervising_organization_id": partners.supervising,
    }
    once = {**officer, "Idempotency-Key": "hotline-2027-05-12-001"}
    created = await inspection.post(CONSULTATIONS, json=body, headers=once)
    assert created.status_code == 201, created.text
    id = created.json()["id"]
    assert created.headers["location"] == f"{CONSULTATIONS}/{id}"
    # Check: a retry with the same key answers as the first did, recording nothing more.
    again = await inspection.post(CONSULTATIONS, json=body, headers=once)
    assert (again.status_code, again.json()) == (201, {"id": id, "version": 1})

    # Check: bad input is refused naming the rule or the field, and changes nothing.
    unknown = await inspection.post(CONSULTATIONS, json={**body, "language": "xx"}, headers=officer)
    assert (unknown.status_code, unknown.json()["rule"]) == (409, "consultation.language")
    assert unknown.headers["content-type"].startswith("application/problem+json")
    bad = await inspection.post(CONSULTATIONS, json={**body, "subject": "noise"}, headers=officer)
    assert bad.status_code == 422 and "subject" in bad.text
    listed = (await inspection.get(CONSULTATIONS, headers=officer)).json()["items"]
    assert [c["id"] for c in listed] == [id]

    # OTIT calls the supervising organization; the consultation stays open.
    stale = await inspection.post(
        f"{CONSULTATIONS}/{id}/handling",
        json={"handled_on": "2027-05-13", "handling": "x", "closed": False},
        headers={**officer, "If-Match": '"7"'},
    )
    assert stale.status_code == 412
    handled = await post(
        inspection,
        f"{CONSULTATIONS}/{id}/handling",
        {
            "handled_on": "2027-05-13",
            "handling": "called the supervising organization; told the trainee of the shelter",
            "closed": False,
        },
        {**officer, "If-Match": '"1"'},
    )
    assert handled == {"id": id, "version": 2}
    handled_by = datetime.now(UTC).isoformat()

    # Check: the consultation names no supervision support organization, and not before it was received.
    not_named = await inspection.post(
        f"{CONSULTATIONS}/{id}/inspection",
        json={"due_by": "2027-06-15", "target_type": "supervision_support_organization", "escalated_on": "2027-05-14"},
        headers=officer,
    )
    assert not_named.status_code == 422 and "target_type" in not_named.text
    too_early = await inspection.post(
        f"{CONSULTATIONS}/{id}/inspection",
        json={"due_by": "2027-06-15", "target_type": "implementing_organization", "escalated_on": "2027-05-11"},
        headers=officer,
    )
    assert (too_early.status_code, too_early.json()["rule"]) == (409, "consultation.escalated_before_received")

    # The officer opens an extraordinary inspection of the employer from it (once the service knows the employer).
    escalate = {"due_by": "2027-06-15", "target_type": "implementing_organization", "escalated_on": "2027-05-14"}

    async def escalated():
        response = await inspection.post(f"{CONSULTATIONS}/{id}/inspection", json=escalate, headers=officer)
        if response.status_code == 409 and response.json()["rule"] == "inspection.target_unknown":
            return None
        assert response.status_code == 200, response.text
        return response.json()

    assert await eventually(escalated, timeout=WAIT, message="the employer never reached inspection") == {
        "id": id,
        "version": 3,
    }
    twice = await inspection.post(f"{CONSULTATIONS}/{id}/inspection", json=escalate, headers=officer)
    assert (twice.status_code, twice.json()["rule"]) == (409, "consultation.inspection_open")

    # Check: the consultation shows the inspection; the inspection is on the worklist, a complaint naming it.
    consultation = (await inspection.get(f"{CONSULTATIONS}/{id}", headers=auditor)).json()
    assert (consultation["status"], consultation["language"], consultation["summary"]) == ("in_handling", "vi", SUMMARY)
    escalation = consultation["escalation"]
    assert (escalation["target_type"], escalation["target_id"]) == ("implementing_organization", partners.implementing)
    worklist = await inspection.get(
        "/v1/inspections", params={"target_id": partners.implementing, "due_before": "2027-06-16"}, headers=officer
    )
    [opened] = worklist.json()["items"]
    assert (opened["id"], opened["reason"], opened["kind"], opened["status"]) == (
        escalation["inspection_id"],
        "complaint",
        "extraordinary",
        "scheduled",
    )
    assert (opened["scheduled_on"], opened["due_by"]) == ("2027-05-14", "2027-06-15")
    assert id in opened["detail"]

    # ... as it was when handled: no inspection yet.
    then = (await inspection.get(f"{CONSULTATIONS}/{id}", params={"as_of": handled_by}, headers=officer)).json()
    assert (then["version"], then["escalation"], len(then["handlings"])) == (2, None, 1)

    # Check: filters find it; no organization reads consultations, not even those naming it.
    for params in (
        {"language": "vi"},
        {"subject": "abuse_or_harassment"},
        {"status": "in_handling"},
        {"organization_id": partners.supervising},
        {"organization": partners.implementing},
    ):
        found = (await inspection.get(CONSULTATIONS, params=params, headers=officer)).json()["items"]
        assert [c["id"] for c in found] == [id], params
    assert (await inspection.get(CONSULTATIONS, params={"language": "zh"}, headers=officer)).json()["items"] == []
    for role, org in (("supervising_org", partners.supervising), ("implementing_org", partners.implementing)):
        member = token(role, org=org)
        assert (await inspection.get(CONSULTATIONS, headers=member)).status_code == 403
        assert (await inspection.get(f"{CONSULTATIONS}/{id}", headers=member)).status_code == 403
        assert (await inspection.post(CONSULTATIONS, json=body, headers=member)).status_code == 403

    # Check: the statistics count it in May 2027, by language and by subject.
    async def statistics(**params):
        response = await inspection.get(
            "/v1/statistics/consultations", params={"from": "2027-04", "to": "2027-05", **params}, headers=auditor
        )
        assert response.status_code == 200, response.text
        return response.json()["months"]

    april, may = await statistics(by="language")
    assert (april["total"], may["total"], may["counts"]) == (0, 1, {"vi": 1})
    assert (await statistics(by="subject"))[1]["counts"] == {"abuse_or_harassment": 1}
    assert (await statistics(language="zh"))[1]["total"] == 0

    # Check: its history is audited, and on titp.inspection.v1 with the inspection it opened.
    history = (await inspection.get(f"/v1/audit/streams/{id}", headers=auditor)).json()["events"]
    assert [e["type"].split(".")[2] for e in history] == [
        "ConsultationRecorded",
        "ConsultationHandled",
        "ConsultationEscalated",
    ]
    assert await event_count_of_inspection(inspection, auditor, escalation["inspection_id"]) == 1
    published = await read_topic_from(kafka_bootstrap, offsets, {id, escalation["inspection_id"]}, 4, timeout=WAIT)
    events = [from_structured_event(KafkaMessage(headers=dict(m.headers), key=m.key, value=m.value)) for m in published]
    by_subject = {}
    for event in events:
        by_subject.setdefault(event.get_subject(), []).append(event.get_type())
    assert by_subject == {
        id: [
            "titp.inspection.ConsultationRecorded.v1",
            "titp.inspection.ConsultationHandled.v1",
            "titp.inspection.ConsultationEscalated.v1",
        ],
        escalation["inspection_id"]: ["titp.inspection.InspectionScheduled.v1"],
    }
    recorded = [e for e in events if e.get_type().endswith("ConsultationRecorded.v1")][0].get_data()
    recorded = json.loads(recorded) if isinstance(recorded, bytes | str) else recorded
    assert (recorded["language"], recorded["subject"], recorded["consultation_id"]) == ("vi", "abuse_or_harassment", id)


async def event_count_of_inspection(client, auditor: dict, inspection_id: str) -> int:
    events = (await client.get(f"/v1/audit/streams/{inspection_id}", headers=auditor)).json()["events"]
    return len(events)
