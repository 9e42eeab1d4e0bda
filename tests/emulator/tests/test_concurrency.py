import concurrent.futures

from emulator_helpers import running_emulator

THREADS = 8
INCREMENTS = 12


def increment(client, task_id):
    """Read, then write percentComplete + 1 guarded by a test of the value read; retry when another writer won."""
    conflicts = 0
    while True:
        current = client.get("v2025", "/" + task_id).json()["percentComplete"]
        reply = client.patch(
            "v2025",
            task_id,
            [
                {"op": "test", "path": "/percentComplete", "value": current},
                {"op": "replace", "path": "/percentComplete", "value": current + 1},
            ],
        )
        if reply.status_code == 200:
            return conflicts
        assert reply.status_code == 409, reply.text
        conflicts += 1


def test_no_lost_update_under_concurrent_patches():
    with running_emulator() as emu:
        first = emu.api()
        task_id = first.all("v2025", filters="completionStatus isnull")[0]["id"]
        first.patch("v2025", task_id, [{"op": "replace", "path": "/percentComplete", "value": 0}])
        clients = [emu.api() for _index in range(THREADS)]
        with concurrent.futures.ThreadPoolExecutor(THREADS) as pool:
            jobs = [pool.submit(increment, clients[n % THREADS], task_id) for n in range(THREADS * INCREMENTS)]
            conflicts = sum(job.result() for job in jobs)
        assert first.get("v2025", "/" + task_id).json()["percentComplete"] == THREADS * INCREMENTS
        # Every 409 the writers met is in the log, and each increment landed exactly once.
        patches = [entry["status"] for entry in emu.control("GET", "requests") if entry["method"] == "PATCH"]
        assert patches.count(409) == conflicts and patches.count(200) == THREADS * INCREMENTS + 1


def test_concurrent_writes_to_different_tasks_all_land():
    with running_emulator(tasks=100) as emu:
        client = emu.api()
        ids = [task["id"] for task in client.all("v2025")][:64]
        clients = [emu.api() for _index in range(THREADS)]

        def write(index):
            return clients[index % THREADS].patch("v2025", ids[index], [{"op": "replace", "path": "/progress", "value": "written %d" % index}]).status_code

        with concurrent.futures.ThreadPoolExecutor(THREADS) as pool:
            assert set(pool.map(write, range(len(ids)))) == {200}
        assert [client.get("v2025", "/" + task_id).json()["progress"] for task_id in ids] == ["written %d" % n for n in range(len(ids))]
