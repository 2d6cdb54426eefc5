"""One process (or thread) at a time plans and groups nudges, on either database."""

from __future__ import annotations

import threading

from bot.scheduler.sweep import PLAN_AND_GROUP
from storage.db import SessionFactory, one_at_a_time


def test_a_second_sweeper_waits_until_the_first_is_done(db: SessionFactory) -> None:
    inside = threading.Event()
    let_go = threading.Event()
    order: list[str] = []

    def first() -> None:
        with one_at_a_time(db, PLAN_AND_GROUP):
            order.append("first in")
            inside.set()
            let_go.wait(30)
            order.append("first out")

    def second() -> None:
        inside.wait(30)
        with one_at_a_time(db, PLAN_AND_GROUP):
            order.append("second in")

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    inside.wait(30)
    # The second is at the door by now or soon; either way it must not get in yet.
    threads[1].join(0.5)
    assert order == ["first in"]
    let_go.set()
    for thread in threads:
        thread.join(30)
    assert order == ["first in", "first out", "second in"]


def test_other_names_do_not_wait(db: SessionFactory) -> None:
    with one_at_a_time(db, PLAN_AND_GROUP):
        entered = threading.Event()

        def other() -> None:
            with one_at_a_time(db, "something else"):
                entered.set()

        thread = threading.Thread(target=other)
        thread.start()
        thread.join(30)
        assert entered.is_set()
