"""Posts to one channel stay a second apart across workers, through the database."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from bot.scheduler.delivery import MAX_PACING_LEAD_S, ChannelPacer
from storage.db import SessionFactory
from storage.models import ChannelPacing
from tests.slackkit import OTHER_TEAM, TEAM

# Epoch seconds on a binary grid, so the sums compare exactly.
T0 = 1_800_000_000.0


class FakeClock:
    """One clock for every simulated worker; sleeping moves it on."""

    def __init__(self, start: float = T0) -> None:
        self.now = start
        self.slept: list[float] = []
        self.lock = threading.Lock()

    def __call__(self) -> float:
        with self.lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self.lock:
            self.slept.append(seconds)


def pacer(db: SessionFactory | None, clock: FakeClock) -> ChannelPacer:
    return ChannelPacer(db, clock=clock, sleep=clock.sleep)


def gaps(slots: list[float]) -> list[float]:
    ordered = sorted(slots)
    return [b - a for a, b in zip(ordered, ordered[1:], strict=False)]


def test_two_workers_never_post_to_one_channel_less_than_a_second_apart(
    db: SessionFactory,
) -> None:
    clock = FakeClock()
    workers = [pacer(db, clock), pacer(db, clock)]
    slots: list[list[float]] = [[], []]

    def work(index: int) -> None:
        for _ in range(15):
            slots[index].append(workers[index].wait_for("C0SALES", team_id=TEAM))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    every = slots[0] + slots[1]
    assert len(every) == 30 and len(set(every)) == 30
    assert min(gaps(every)) >= 1.0
    assert sorted(every)[0] == T0, "an idle channel takes a post at once"
    # Each waited until its own slot: the clock never moved, so the wait is the lead.
    assert sorted(clock.slept) == [float(n) for n in range(1, 30)]


def test_per_process_pacers_alone_would_collide(db: SessionFactory) -> None:
    clock = FakeClock()
    first, second = pacer(None, clock), pacer(None, clock)
    assert first.wait_for("C0SALES", team_id=TEAM) == second.wait_for("C0SALES", team_id=TEAM)
    shared_first, shared_second = pacer(db, clock), pacer(db, clock)
    a = shared_first.wait_for("C0SALES", team_id=TEAM)
    b = shared_second.wait_for("C0SALES", team_id=TEAM)
    assert b - a == 1.0


def test_a_channel_is_free_again_once_its_slot_has_passed(db: SessionFactory) -> None:
    clock = FakeClock()
    first, second = pacer(db, clock), pacer(db, clock)
    first.wait_for("C0SALES", team_id=TEAM)
    clock.now += 5
    assert second.wait_for("C0SALES", team_id=TEAM) == T0 + 5
    assert clock.slept == []
    # Other channels, and the same channel id in another workspace, are paced apart.
    assert second.wait_for("C0OTHER", team_id=TEAM) == T0 + 5
    assert first.wait_for("C0SALES", team_id=OTHER_TEAM) == T0 + 5


def test_a_slot_far_ahead_is_a_clock_that_stepped_back_and_is_not_waited_for(
    db: SessionFactory,
) -> None:
    ahead = FakeClock(T0 + 3600)
    pacer(db, ahead).wait_for("C0SALES", team_id=TEAM)
    behind = FakeClock()
    assert pacer(db, behind).wait_for("C0SALES", team_id=TEAM) == T0
    assert behind.slept == []
    assert MAX_PACING_LEAD_S < 3600


def test_direct_messages_write_nothing_and_keep_their_own_pacing(db: SessionFactory) -> None:
    clock = FakeClock()
    worker = pacer(db, clock)
    for recipient in ("U0ALICE", "D0ALICE", "U0ALICE"):
        worker.wait_for(recipient, team_id=TEAM)
    with db() as session:
        assert session.scalar(select(func.count()).select_from(ChannelPacing)) == 0
    # Within one process a person's DMs still keep a second apart.
    assert clock.slept == [1.0]
