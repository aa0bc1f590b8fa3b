from datetime import timedelta

from trading.bus import EventBus
from trading.model import LockoutEnded, LockoutStarted, TradingState
from trading.risk import LockoutManager, RiskRecorder
from trading.storage import LockoutRepository, RiskRepository


def _recorder(db, clock):
    return RiskRecorder(RiskRepository(db), clock, states=lambda names: (clock.now().date(), {}))


def test_lockout_manager_lock_persists_and_publishes(clock, db):
    bus, seen = EventBus(), []
    bus.subscribe(LockoutStarted, seen.append)
    repo = LockoutRepository(db)
    recorder = _recorder(db, clock)
    locks = LockoutManager(bus, clock, recorder=recorder)
    locks.lock("account", rule="daily_realized_loss", reason="loss", until=None)
    assert recorder.flush()
    assert [row["rule"] for row in repo.all()] == ["daily_realized_loss"]
    assert seen[0].scope == "account" and seen[0].until is None
    assert locks.level() is TradingState.HALTED


def test_lockout_manager_weaker_lock_never_shortens_stronger(clock):
    locks = LockoutManager(EventBus(), clock)
    locks.lock("account", rule="daily_realized_loss", reason="loss", until=None)
    kept = locks.lock(
        "account",
        rule="cooldown_after_loss",
        reason="cool",
        until=clock.now() + timedelta(minutes=5),
        state=TradingState.REDUCING,
    )
    assert kept.rule == "daily_realized_loss" and kept.until is None and kept.state is TradingState.HALTED


def test_lockout_manager_stronger_lock_replaces_cooldown(clock):
    locks = LockoutManager(EventBus(), clock)
    locks.lock(
        "account",
        rule="cooldown_after_loss",
        reason="cool",
        until=clock.now() + timedelta(minutes=5),
        state=TradingState.REDUCING,
    )
    merged = locks.lock("account", rule="daily_realized_loss", reason="loss", until=None)
    assert (merged.rule, merged.until, merged.state) == ("daily_realized_loss", None, TradingState.HALTED)


def test_lockout_manager_timed_lock_expires(clock):
    bus, ended = EventBus(), []
    bus.subscribe(LockoutEnded, ended.append)
    locks = LockoutManager(bus, clock)
    locks.lock(
        "account",
        rule="cooldown",
        reason="cool",
        until=clock.now() + timedelta(seconds=60),
        state=TradingState.REDUCING,
    )
    assert locks.expire(clock.now() + timedelta(seconds=59)) == []
    assert [lock.rule for lock in locks.expire(clock.now() + timedelta(seconds=60))] == ["cooldown"]
    assert ended[0].reason == "cooldown lockout expired" and len(locks) == 0


def test_lockout_manager_restore_drops_stale_and_keeps_current(clock, db):
    repo = LockoutRepository(db)
    recorder = _recorder(db, clock)
    first = LockoutManager(EventBus(), clock, recorder=recorder)
    first.lock("account", rule="daily_realized_loss", reason="loss", until=None)
    first.lock("NQ", rule="manual", reason="news", until=clock.now() + timedelta(minutes=1))
    assert recorder.flush()
    clock.advance(120)
    second = LockoutManager(EventBus(), clock, recorder=recorder)
    restored = second.restore(
        repo.all(), lambda rule: TradingState.HALTED, last_reset=clock.now() - timedelta(hours=1)
    )
    assert recorder.flush()
    assert [lock.scope for lock in restored] == ["account"]
    assert [row["scope"] for row in repo.all()] == ["account"]
