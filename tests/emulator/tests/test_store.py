import random

from isc_emulator import seed
from isc_emulator.clock import DAY_MS, iso, now_ms
from isc_emulator.store import Store

WHERE = {"all": "1", "completed": "status IS NOT NULL", "pending": "status IS NULL"}


def test_cached_views_follow_every_update():
    now = now_ms()
    store = Store()
    store.replace_all("acme", seed.generate_rows(3, 200, 20, 20, now))
    ids = [row[0] for row in store.db.execute("SELECT id FROM tasks")]
    since = now - 90 * DAY_MS
    store.view_page("acme", "all", since, False, 250, 0, True)
    rng = random.Random(1)
    for index in range(150):
        status = rng.choice((None, "SUCCESS", "ERROR"))
        created = iso(now - rng.randint(0, 100 * DAY_MS))

        def change(task, status=status, created=created, index=index):
            task.update(completionStatus=status, created=created, progress="step %d" % index)
            return task

        store.update("acme", rng.choice(ids), change)
    for kind, where in WHERE.items():
        for descending in (False, True):
            for offset in (0, 37, 150):
                cached, total = store.view_page("acme", kind, since, descending, 50, offset, True)
                assert cached == store.page("acme", since, where, [], descending, 50, offset)
                assert total == store.count("acme", since, where, [])
    store.close()
