from emulator_helpers import running_emulator


def test_state_file_keeps_changes_and_credentials_across_restarts(tmp_path):
    state = str(tmp_path / "isc.sqlite")
    with running_emulator(state=state) as emu:
        client = emu.api()
        task_id = client.all("v2025", filters="completionStatus isnull")[0]["id"]
        patched = client.patch("v2025", task_id, [{"op": "replace", "path": "/completionStatus", "value": "TERMINATED"}]).json()
        credentials = emu.clients()
        everything = client.all("v2025")
    with running_emulator(state=state, tasks=10) as emu:
        assert emu.clients() == credentials
        client = emu.api()
        assert client.get("v2025", "/" + task_id).json() == patched
        assert client.all("v2025") == [patched if task["id"] == task_id else task for task in everything]


def test_in_memory_state_starts_fresh():
    with running_emulator() as emu:
        client = emu.api()
        task_id = client.all("v2025")[0]["id"]
        client.patch("v2025", task_id, [{"op": "replace", "path": "/progress", "value": "changed"}])
    with running_emulator() as emu:
        assert emu.api().get("v2025", "/" + task_id).json()["progress"] != "changed"


def test_seeding_is_deterministic():
    with running_emulator() as first_run:
        first = [(task["id"], task["uniqueName"], task["completionStatus"]) for task in first_run.api().all("v2025")]
    with running_emulator() as second_run:
        second = [(task["id"], task["uniqueName"], task["completionStatus"]) for task in second_run.api().all("v2025")]
    assert first == second
