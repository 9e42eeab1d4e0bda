"""JSON Patch on a TaskStatus under the project's rules: few writable paths, checked values, honoured tests, all or nothing."""

from __future__ import annotations

import copy

from isc_emulator.clock import iso, parse_iso

STATUSES = ("SUCCESS", "WARNING", "ERROR", "TERMINATED", "TEMPERROR")
WRITABLE = ("/completionStatus", "/completed", "/progress", "/percentComplete")
OPERATIONS = ("replace", "add", "test")
DATE_FIELDS = ("created", "modified", "launched", "completed")
# Clocks of the client and the emulator may differ a little even on one machine.
FUTURE_SKEW_MS = 60_000


class PatchError(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


def _bad(message):
    return PatchError(400, message)


def check_operations(operations):
    """Reject a body that is not a list of supported operations before any task is read."""
    if not isinstance(operations, list):
        raise _bad("The request body must be a JSON array of JSON Patch operations")
    if not operations:
        raise _bad("The patch must contain at least one operation")
    for index, operation in enumerate(operations):
        _check_operation(index, operation)


def _check_operation(index, operation):
    if not isinstance(operation, dict) or not isinstance(operation.get("op"), str) or not isinstance(operation.get("path"), str):
        raise _bad("Operation %d must be an object with string 'op' and 'path'" % index)
    if operation["op"] not in OPERATIONS:
        raise _bad("Operation %d: op %r is not supported; use %s" % (index, operation["op"], ", ".join(OPERATIONS)))
    if "value" not in operation:
        raise _bad("Operation %d: %s needs a value" % (index, operation["op"]))
    if operation["op"] != "test" and operation["path"] not in WRITABLE:
        raise _bad("Operation %d: path %r is not writable; writable paths are %s" % (index, operation["path"], ", ".join(WRITABLE)))


def _pointer(document, path):
    """Resolve an RFC 6901 pointer; KeyError when it leads nowhere."""
    if path == "":
        return document
    if not path.startswith("/"):
        raise KeyError(path)
    for part in path[1:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if isinstance(document, list) and part.isdigit() and int(part) < len(document):
            document = document[int(part)]
        elif isinstance(document, dict) and part in document:
            document = document[part]
        else:
            raise KeyError(path)
    return document


def _same(path, current, expected):
    field = path[1:]
    if field == "completionStatus" and isinstance(current, str) and isinstance(expected, str):
        return current.upper() == expected.upper()
    if field in DATE_FIELDS and isinstance(current, str) and isinstance(expected, str):
        try:
            return parse_iso(current) == parse_iso(expected)
        except ValueError:
            return False
    if isinstance(current, bool) or isinstance(expected, bool):
        return current is expected
    return current == expected


def _value(task, path, value, now):
    """The stored form of a written value; PatchError(400) for one the service would refuse."""
    if path == "/completionStatus":
        if value is None:
            return None
        if not isinstance(value, str) or value.upper() not in STATUSES:
            raise _bad("completionStatus must be one of %s, not %r" % (", ".join(STATUSES), value))
        return value.upper()
    if path == "/completed":
        return _completed(task, value, now)
    if path == "/progress":
        if value is not None and not isinstance(value, str):
            raise _bad("progress must be a string")
        return value
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
        raise _bad("percentComplete must be an integer from 0 to 100, not %r" % (value,))
    return value


def _completed(task, value, now):
    if value is None:
        return None
    try:
        moment = parse_iso(value)
    except (TypeError, ValueError):
        raise _bad("completed must be an RFC 3339 date-time, not %r" % (value,)) from None
    if moment > now + FUTURE_SKEW_MS:
        raise _bad("completed %s is in the future" % value)
    if moment < parse_iso(task["created"]):
        raise _bad("completed %s is before the task was created (%s)" % (value, task["created"]))
    return iso(moment)


def apply(task, operations, now):
    """The patched copy of ``task``; PatchError(409) for a failed test, (400) for a refused value. ``task`` is untouched."""
    result = copy.deepcopy(task)
    for index, operation in enumerate(operations):
        path = operation["path"]
        if operation["op"] == "test":
            try:
                current = _pointer(result, path)
            except KeyError:
                raise PatchError(409, "Operation %d: test failed, %s does not exist" % (index, path)) from None
            if not _same(path, current, operation["value"]):
                raise PatchError(409, "Operation %d: test failed, %s is %s" % (index, path, _shown(current)))
        else:
            result[path[1:]] = _value(result, path, operation["value"], now)
    result["modified"] = iso(now)
    return result


def _shown(value):
    return "null" if value is None else repr(value)
