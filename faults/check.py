"""What the stores, the topics and the inboxes say after the load, compared with what the clients were told.

Per service: every acknowledged command is an event in its store at the version it was told; every event
the load stored was acknowledged (or its command given up on); each aggregate the load wrote has its read
model row at the stream's last version (nothing half-written); the outbox is empty; every stored event is
on the service's topic (read from offset 0) and nothing else is; every subscriber's inbox holds each of
them, once (its primary key), and no subscriber dead-lettered anything. Across services: each permit
granted got exactly one first inspection scheduled.
"""

from __future__ import annotations

import asyncio
import importlib

import asyncpg

from faults.load import Tally, subject
from shared.audit.checkpoints import CHECKPOINT_STREAM
from shared.audit.log import read_topic
from shared.service import ServiceDefinition
from shared.settings import SERVICES
from shared.topics import dlq_topic, service_topic


def definition(service: str) -> ServiceDefinition:
    """The ServiceDefinition that services/<service>/app.py declares."""
    module = importlib.import_module(f"services.{service}.app")
    [found] = {id(value): value for value in vars(module).values() if isinstance(value, ServiceDefinition)}.values()
    return found


DEFINITIONS = {name: definition(name) for name in SERVICES}
# The read model holding one row per aggregate the load writes, with the stream's version.
READ_MODEL = {
    "registry": "supervising_organizations",
    "accreditation": "training_plans",
    "inspection": "inspections",
    "visa": "coe_applications",
}


def subscribers_of(service: str) -> list[str]:
    return [name for name, d in DEFINITIONS.items() if service_topic(service) in d.subscribes_to]


async def _store(dsn: str, service: str) -> dict:
    conn = await asyncpg.connect(dsn)
    try:
        events = await conn.fetch(
            "SELECT id::text, stream_id, version, actor, type, data->>'reason' AS reason FROM events"
        )
        mine = [e["stream_id"] for e in events if e["actor"] == subject(service)]
        table = READ_MODEL[service]
        # The load's aggregates whose read model row is missing or not at the stream's last version, and rows
        # of streams that have no events at all.
        half_written = await conn.fetchval(
            f"WITH heads AS (SELECT stream_id, max(version) AS version FROM events"
            f"               WHERE stream_id = ANY($1::text[]) GROUP BY stream_id)"
            f" SELECT (SELECT count(*) FROM heads LEFT JOIN {table} r ON r.id::text = heads.stream_id"
            f"         WHERE r.version IS DISTINCT FROM heads.version)"
            f"      + (SELECT count(*) FROM {table} r"
            f"         WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.stream_id = r.id::text))",
            list(set(mine)),
        )
        return {
            "events": events,
            "half_written": half_written,
            "outbox": await conn.fetchval("SELECT count(*) FROM outbox"),
            "inbox": [str(r["event_id"]) for r in await conn.fetch("SELECT event_id FROM inbox")],
        }
    finally:
        await conn.close()


async def observe(bootstrap: str, dsns: dict[str, str], prefix: str, tallies: dict[str, Tally]) -> dict:
    """One look at everything; `problems` lists what does not match (empty: all is well)."""
    stores = dict(zip(dsns, await asyncio.gather(*(_store(dsn, name) for name, dsn in dsns.items()))))
    topics = dict(
        zip(dsns, await asyncio.gather(*(read_topic(bootstrap, prefix + service_topic(name)) for name in dsns)))
    )
    dead = dict(zip(dsns, await asyncio.gather(*(read_topic(bootstrap, prefix + dlq_topic(name)) for name in dsns))))
    report: dict = {}
    problems: list[str] = []
    for name, store in stores.items():
        tally, events = tallies[name], store["events"]
        stored = {e["id"] for e in events}
        by_load = {(e["stream_id"], e["version"]) for e in events if e["actor"] == subject(name)}
        acknowledged = set(tally.acknowledged)
        on_topic = [str(e.id) for e in topics[name].events]
        topic_ids = set(on_topic)
        inboxes = {s: set(stores[s]["inbox"]) for s in subscribers_of(name)}
        report[name] = {
            "commands": tally.summary(),
            "stored": {
                "events": len(events),
                "by_the_load": len(by_load),
                "checkpoints": sum(e["stream_id"] == CHECKPOINT_STREAM for e in events),
                "acknowledged_missing": len(acknowledged - by_load),
                "unacknowledged": len(by_load - acknowledged),
                "half_written": store["half_written"],
                "outbox_left": store["outbox"],
            },
            "topic": {
                "records": len(on_topic) + topics[name].records.duplicates,  # identical repeats included
                "events": len(topic_ids),
                "stored_missing": len(stored - topic_ids),
                "not_stored": len(topic_ids - stored),
            },
            "applied_by": {
                s: {"applied": len(stored & inbox), "missing": len(stored - inbox)} for s, inbox in inboxes.items()
            },
            "dead_lettered": len(dead[name].events) + len(dead[name].unreadable),
        }
        r = report[name]
        if not acknowledged:
            problems.append(f"{name}: no command acknowledged")
        if tally.refused or tally.abandoned:
            problems.append(
                f"{name}: {dict(tally.refused)} refused, {tally.abandoned} abandoned ({tally.last_refusal})"
            )
        if len(acknowledged) != len(tally.acknowledged):
            problems.append(f"{name}: one (stream, version) acknowledged twice")
        for key in ("acknowledged_missing", "half_written", "outbox_left"):
            if r["stored"][key]:
                problems.append(f"{name}: stored.{key} = {r['stored'][key]}")
        if r["stored"]["unacknowledged"] > tally.abandoned:
            problems.append(
                f"{name}: {r['stored']['unacknowledged']} stored events of the load were never"
                f" acknowledged, {tally.abandoned} commands abandoned"
            )
        if topics[name].unreadable:
            problems.append(f"{name}: not CloudEvents on its topic: {topics[name].unreadable[:3]}")
        if topic_ids != stored:
            problems.append(
                f"{name}: topic holds {len(topic_ids)} events, store {len(stored)}"
                f" ({r['topic']['stored_missing']} missing, {r['topic']['not_stored']} not stored)"
            )
        for s, applied in r["applied_by"].items():
            if applied["missing"]:
                problems.append(f"{name}: {s} has not applied {applied['missing']} of its events")
        if r["dead_lettered"]:
            problems.append(f"{name}: {r['dead_lettered']} messages in its DLQ")
    granted = [e for e in stores["registry"]["events"] if e["type"] == "titp.registry.PermitGranted.v1"]
    scheduled = [
        e
        for e in stores["inspection"]["events"]
        if e["type"] == "titp.inspection.InspectionScheduled.v1" and e["reason"] == "permit_granted"
    ]
    report["effects"] = {
        "permits_granted": len(granted),
        "first_inspections_scheduled": len(scheduled),
        "inspections_with_one_schedule": len({e["stream_id"] for e in scheduled}),
    }
    if not len(granted) == len(scheduled) == len({e["stream_id"] for e in scheduled}):
        problems.append(f"effects: {report['effects']}")
    report["problems"] = problems
    return report
