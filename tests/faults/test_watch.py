"""What a scenario reads off the watch (faults.watch): the longest publishing pause in a window, how far a
subscriber fell behind, and when it caught up. Made-up samples: no broker, no database."""

from faults.watch import Watch


def watched() -> Watch:
    watch = Watch({})
    # The registry's outbox: empty, then an event held for 6 s around t=10..16, empty again.
    watch.publishing_lag_s["registry"] += [(0.0, 0.0), (10.0, 0.5), (13.0, 3.5), (16.0, 6.0), (17.0, 0.0)]
    watch.publishing_lag_s["visa"] += [(0.0, 0.2), (13.0, 0.3)]
    # The inspection behind the registry: 2 events as a rule, 40 while slowed (t=10..16), back to 1 at t=19.
    watch.behind["inspection"]["registry"] += [(1.0, 2), (5.0, 2), (12.0, 25), (15.0, 40), (17.0, 30), (19.0, 1)]
    return watch


def test_the_longest_publishing_pause_is_taken_per_service_within_the_window():
    watch = watched()
    assert watch.publishing_paused_s() == {"registry": 6.0, "visa": 0.3}
    assert watch.publishing_paused_s(0, 12) == {"registry": 0.5, "visa": 0.2}
    assert watch.publishing_paused_s(20, 30) == {"registry": 0.0, "visa": 0.0}


def test_how_far_behind_and_when_caught_up_again():
    watch = watched()
    assert watch.behind_max(0, 10) == {"inspection": {"registry": 2}}
    assert watch.behind_max(10, 16) == {"inspection": {"registry": 40}}
    # Caught up once no more behind than before the slowdown: at t=19, not at t=17 (still 30 behind).
    assert watch.caught_up_at("inspection", "registry", since=16, at_most=2) == 19.0
    assert watch.caught_up_at("inspection", "registry", since=20, at_most=2) is None
