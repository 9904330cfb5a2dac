"""What the stores, the topics and the subscribers' read models say after the load, compared with what the
clients were told, event by event (docs/faults.md, "Checks by identity").

`gather` reads everything into a `State` (stores, topics, dead letters, the subscribers' read models);
`judge` compares it, purely, with the clients' tallies (so a unit test can feed it a made-up state):

- every acknowledged command's event (its (stream, version)) is in its service's store exactly once, and every
  event the load stored was acknowledged (or its command given up on); each aggregate the load wrote has its
  read model row at the stream's last version; the outbox is empty;
- every stored event is on the service's topic (read from offset 0, deduplicated by CloudEvent id; repeats
  counted), and nothing else is; every subscriber's inbox holds each of them; nothing dead-lettered;
- every expected cross-service effect exists exactly once with the right target (`expected_effects`).

`audit` then verifies each service's hash chains and checkpoints (what `titp audit verify` calls, on the store
and on the topic) and replays the topics into fresh databases, diffing them with the live read models (what
`titp audit replay` calls).
"""

from __future__ import annotations

import asyncio
import importlib
import json
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID, uuid5

import asyncpg

from contracts.accreditation import TrainingPlanApplied, accreditation_events
from contracts.inspection import InspectionScheduled, inspection_events
from contracts.registry import PermitApplied, PermitDenied, PermitExpired, PermitGranted, PermitRevoked, registry_events
from faults.load import Tally, subject
from shared.audit import replay as replay_lib
from shared.audit.checkpoints import CHECKPOINT_STREAM
from shared.audit.log import in_log_order, local_public_keys, log_from_database, read_topic, verify_log
from shared.service import ServiceDefinition
from shared.settings import SERVICES, ServiceSettings
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


# State: what was found


@dataclass(frozen=True)
class Stored:
    """One event in a service's store."""

    id: str
    stream_id: str
    version: int
    actor: str | None
    type: str
    data: dict[str, Any]


@dataclass
class Store:
    events: list[Stored]
    half_written: int = 0  # the load's aggregates whose read model row is missing or behind, rows without events
    outbox: int = 0
    inbox: set[str] = field(default_factory=set)


@dataclass
class Topic:
    """A topic read from offset 0: the event ids on it (each once), identical repeats, unreadable records."""

    ids: set[str]
    duplicates: int = 0
    unreadable: list[str] = field(default_factory=list)


@dataclass
class State:
    stores: dict[str, Store]
    topics: dict[str, Topic]
    dead_lettered: dict[str, int]
    # What each subscriber's read models hold of other services' facts: effect kind -> {key: [target, ...]}.
    effects: dict[str, dict[str, list[Any]]]


# The expected cross-service effects, each (kind, key, target), from the publishers' stores; and the query that
# reads what a subscriber holds of that kind, as (key, target) rows. Inspection ids derive from the causing event's
# id (services/inspection/subscriptions.py: uuid5(event id, "inspection")).
GRANTED = registry_events.type_name(PermitGranted)  # the type names as stored now
APPLIED = registry_events.type_name(PermitApplied)
PLAN_APPLIED = accreditation_events.type_name(TrainingPlanApplied)
SCHEDULED = inspection_events.type_name(InspectionScheduled)
PERMIT_STATUS = {
    APPLIED: "applied",
    GRANTED: "active",
    registry_events.type_name(PermitDenied): "denied",
    registry_events.type_name(PermitRevoked): "revoked",
    registry_events.type_name(PermitExpired): "expired",
}
EFFECT_ROWS = {
    # inspection: the first inspection a grant scheduled, by the InspectionScheduled events of its stream
    "first_inspection": (
        "inspection",
        "SELECT stream_id AS key, jsonb_build_array(data->>'target_type', data->>'target_id') AS target FROM events"
        f" WHERE type = '{SCHEDULED}' AND data->>'reason' = 'permit_granted'",
    ),
    # inspection's copy of the registry's organizations
    "inspection_organization": (
        "inspection",
        "SELECT id::text AS key, to_jsonb(target_type) AS target FROM organizations",
    ),
    # accreditation's copy of the registry's permits
    "accreditation_permit": (
        "accreditation",
        "SELECT supervising_organization_id::text AS key, to_jsonb(status) AS target FROM registry_permits"
        " WHERE scheme = 'titp'",
    ),
    # visa's copy of the accreditation's plans
    "visa_plan": (
        "visa",
        "SELECT id::text AS key, jsonb_build_array(supervising_organization_id::text, trainee_id::text) AS target"
        " FROM known_training_plans",
    ),
}


def expected_effects(stores: Mapping[str, Store]) -> dict[str, dict[str, Any]]:
    """kind -> {key: target} that the publishers' stored events call for in the subscribers."""
    expected: dict[str, dict[str, Any]] = defaultdict(dict)
    for e in stores["registry"].events:
        if e.type == GRANTED:
            expected["first_inspection"][str(uuid5(UUID(e.id), "inspection"))] = [
                "supervising_organization",
                e.stream_id,
            ]
        if e.type == APPLIED:
            expected["inspection_organization"][e.stream_id] = "supervising_organization"
    for e in sorted(stores["registry"].events, key=lambda e: e.version):
        if e.type in PERMIT_STATUS:  # the permit's status after its last event of these
            expected["accreditation_permit"][e.stream_id] = PERMIT_STATUS[e.type]
    for e in stores["accreditation"].events:
        if e.type == PLAN_APPLIED:
            expected["visa_plan"][e.stream_id] = [e.data.get("supervising_organization_id"), e.data.get("trainee_id")]
    return expected


# Gathering


async def _store(dsn: str, service: str) -> Store:
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch("SELECT id::text, stream_id, version, actor, type, data::text FROM events")
        events = [Stored(r[0], r[1], r[2], r[3], r[4], json.loads(r[5])) for r in rows]
        mine = list({e.stream_id for e in events if e.actor == subject(service)})
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
            mine,
        )
        return Store(
            events,
            half_written,
            await conn.fetchval("SELECT count(*) FROM outbox"),
            {str(r["event_id"]) for r in await conn.fetch("SELECT event_id FROM inbox")},
        )
    finally:
        await conn.close()


async def _effect_rows(dsns: Mapping[str, str]) -> dict[str, dict[str, list[Any]]]:
    found: dict[str, dict[str, list[Any]]] = {}
    for kind, (service, query) in EFFECT_ROWS.items():
        conn = await asyncpg.connect(dsns[service])
        try:
            rows = await conn.fetch(query)
        finally:
            await conn.close()
        found[kind] = defaultdict(list)
        for row in rows:
            found[kind][row["key"]].append(json.loads(row["target"]))
    return found


async def _topic(bootstrap: str, topic: str) -> Topic:
    contents = await read_topic(bootstrap, topic)
    return Topic({str(e.id) for e in contents.events}, contents.records.duplicates, contents.unreadable)


async def gather(bootstrap: str, dsns: Mapping[str, str], prefix: str) -> State:
    names = list(dsns)
    stores = await asyncio.gather(*(_store(dsns[n], n) for n in names))
    topics = await asyncio.gather(*(_topic(bootstrap, prefix + service_topic(n)) for n in names))
    dead = await asyncio.gather(*(read_topic(bootstrap, prefix + dlq_topic(n)) for n in names))
    return State(
        dict(zip(names, stores)),
        dict(zip(names, topics)),
        {n: len(d.events) + len(d.unreadable) for n, d in zip(names, dead)},
        await _effect_rows(dsns),
    )


# Judging


def judge(state: State, tallies: Mapping[str, Tally]) -> dict:
    """The report per service and of the effects, its figures, and `problems` (empty: all is well)."""
    report: dict = {}
    problems: list[str] = []
    totals = dict.fromkeys(("acknowledged", "missing_in_store", "missing_on_topic", "duplicates_on_topic"), 0)
    for name, store in state.stores.items():
        tally, topic = tallies[name], state.topics[name]
        stored = {e.id for e in store.events}
        at: dict[tuple[str, int], list[str]] = defaultdict(list)  # (stream, version) -> the load's event ids
        for e in store.events:
            if e.actor == subject(name):
                at[(e.stream_id, e.version)].append(e.id)
        acknowledged = set(tally.acknowledged)
        found = [ids for key in acknowledged if len(ids := at.get(key, [])) == 1]
        missing_in_store = len(acknowledged) - len(found)
        acknowledged_ids = {ids[0] for ids in found}
        inboxes = {s: state.stores[s].inbox for s in subscribers_of(name) if s in state.stores}
        report[name] = {
            "commands": tally.summary(),
            "stored": {
                "events": len(store.events),
                "by_the_load": len(at),
                "checkpoints": sum(e.stream_id == CHECKPOINT_STREAM for e in store.events),
                "acknowledged_missing": missing_in_store,
                "unacknowledged": len(set(at) - acknowledged),
                "half_written": store.half_written,
                "outbox_left": store.outbox,
            },
            "topic": {
                "records": len(topic.ids) + topic.duplicates,  # identical repeats included
                "events": len(topic.ids),
                "duplicates": topic.duplicates,
                "acknowledged_missing": len(acknowledged_ids - topic.ids),
                "stored_missing": len(stored - topic.ids),
                "not_stored": len(topic.ids - stored),
            },
            "applied_by": {
                s: {"applied": len(stored & inbox), "missing": len(stored - inbox)} for s, inbox in inboxes.items()
            },
            "dead_lettered": state.dead_lettered.get(name, 0),
        }
        totals["acknowledged"] += len(tally.acknowledged)
        totals["missing_in_store"] += missing_in_store
        totals["missing_on_topic"] += len(stored - topic.ids)
        totals["duplicates_on_topic"] += topic.duplicates
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
        if topic.unreadable:
            problems.append(f"{name}: not CloudEvents on its topic: {topic.unreadable[:3]}")
        if topic.ids != stored:
            problems.append(
                f"{name}: topic holds {len(topic.ids)} events, store {len(stored)}"
                f" ({r['topic']['stored_missing']} missing, {r['topic']['not_stored']} not stored)"
            )
        for s, applied in r["applied_by"].items():
            if applied["missing"]:
                problems.append(f"{name}: {s} has not applied {applied['missing']} of its events")
        if r["dead_lettered"]:
            problems.append(f"{name}: {r['dead_lettered']} messages in its DLQ")
    report["effects"], effect_problems = _judge_effects(state)
    problems += effect_problems
    report["figures"] = {
        **totals,
        **{k: report["effects"][k] for k in ("effects_missing", "effects_wrong_target", "effects_doubled")},
    }
    report["problems"] = problems
    return report


def _judge_effects(state: State) -> tuple[dict, list[str]]:
    expected = expected_effects(state.stores)
    figures: dict[str, Any] = {"effects_missing": 0, "effects_wrong_target": 0, "effects_doubled": 0}
    problems = []
    for kind in EFFECT_ROWS:
        wanted, found = expected.get(kind, {}), state.effects.get(kind, {})
        if not wanted:  # the run made none: the check would prove nothing (a renamed event type, say)
            problems.append(f"effects: no {kind} expected from the stored events")
        missing = [k for k in wanted if not found.get(k)]
        doubled = [k for k in wanted if len(found.get(k, [])) > 1]
        wrong = [k for k, target in wanted.items() if found.get(k) and any(t != target for t in found[k])]
        figures[kind] = {"expected": len(wanted), "missing": len(missing), "wrong_target": len(wrong)}
        figures["effects_missing"] += len(missing)
        figures["effects_wrong_target"] += len(wrong)
        figures["effects_doubled"] += len(doubled)
        for what, keys in (("missing", missing), ("with the wrong target", wrong), ("more than once", doubled)):
            if keys:
                example = keys[0]
                problems.append(
                    f"effects: {len(keys)} of {len(wanted)} {kind} {what}, e.g. {example}:"
                    f" expected {wanted[example]}, found {found.get(example, [])}"
                )
    # The figures the earlier, counting check reported, kept for comparison.
    figures["permits_granted"] = len(expected.get("first_inspection", {}))
    figures["first_inspections_scheduled"] = sum(map(len, state.effects.get("first_inspection", {}).values()))
    if figures["first_inspections_scheduled"] != figures["permits_granted"]:  # one scheduled with no grant, say
        problems.append(
            f"effects: {figures['first_inspections_scheduled']} first inspections for "
            f"{figures['permits_granted']} permits granted"
        )
    return figures, problems


async def observe(bootstrap: str, dsns: dict[str, str], prefix: str, tallies: dict[str, Tally]) -> dict:
    """One look at everything; `problems` lists what does not match (empty: all is well)."""
    return judge(await gather(bootstrap, dsns, prefix), tallies)


# The audit: chains, checkpoints, replay


def settings_of(service: str, dsn: str, *, bootstrap: str, prefix: str, data_dir: Any) -> ServiceSettings:
    """The settings `titp audit` would run with against the scenario's service."""
    return ServiceSettings(
        service=service, database_url=dsn, kafka_bootstrap_servers=bootstrap, topic_prefix=prefix, data_dir=data_dir
    )


async def audit(
    settings: Mapping[str, ServiceSettings], replay_dsns: Mapping[str, str], create: Callable[[str], Any]
) -> dict:
    """`titp audit verify` (from the store and from the topic) and `titp audit replay` with its diff, on the
    scenario's services; `create(dsn)` makes each fresh database to replay into."""
    chains: dict[str, Any] = {}
    for name, st in settings.items():
        keys = local_public_keys(st)
        topic = await read_topic(st.kafka_bootstrap_servers, st.topic(service_topic(name)))
        checked = {
            "store": verify_log(name, await log_from_database(st.database_url, name), keys),
            "topic": verify_log(name, in_log_order(topic.events), keys),
        }
        chains[name] = {
            source: {
                "ok": v.ok and bool(keys),
                "events": v.events,
                "checkpoints": v.checkpoints,
                "unsealed": v.unsealed,
                "findings": [str(f) for f in v.findings[:5]],
            }
            for source, v in checked.items()
        }
    for dsn in replay_dsns.values():
        await create(dsn)
    definitions = [
        importlib.import_module(f"services.{n}.app").create_app(st).state.definition for n, st in settings.items()
    ]
    results = await replay_lib.replay_topics([(d, settings[d.name]) for d in definitions], replay_dsns)
    replay = {}
    for d in definitions:
        diffs = await replay_lib.diff_read_models(settings[d.name].database_url, replay_dsns[d.name], d.outside_the_log)
        result = results[d.name]
        replay[d.name] = {
            "ok": not diffs and not result.left_out,
            "events": result.events,
            "applied": result.applied,
            "refused": result.failed[:5],
            "tables_differing": {
                t.table: {"only_live": t.only_live[:3], "only_replayed": t.only_replayed[:3]} for t in diffs
            },
        }
    return {
        "chains_ok": all(c["ok"] for per in chains.values() for c in per.values()),
        "replay_ok": all(r["ok"] for r in replay.values()),
        "chains": chains,
        "replay": replay,
    }
