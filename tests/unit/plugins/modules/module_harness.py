# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Running a module's main() in a unit test: its arguments in, its exit_json or fail_json out as an exception."""

from __future__ import annotations

from ansible.module_utils import basic

try:  # ansible-core >= 2.19
    from ansible.module_utils.testing import patch_module_args  # pylint: disable=unused-import
except ImportError:  # older ansible-core
    import contextlib
    import json
    from unittest import mock

    from ansible.module_utils.common.text.converters import to_bytes

    @contextlib.contextmanager
    def patch_module_args(args=None):
        with mock.patch.object(basic, "_ANSIBLE_ARGS", to_bytes(json.dumps({"ANSIBLE_MODULE_ARGS": args or {}}))):
            yield


class ExitJson(Exception):
    """exit_json was called; args[0] holds the result."""


class FailJson(Exception):
    """fail_json was called; args[0] holds the result."""


def patch_exits(monkeypatch) -> list:
    """Make exit_json and fail_json raise, and collect warnings; the list of warnings is returned."""
    warnings = []

    def exit_json(_module, **kwargs):
        raise ExitJson(kwargs)

    def fail_json(_module, **kwargs):
        raise FailJson(kwargs)

    monkeypatch.setattr(basic.AnsibleModule, "exit_json", exit_json)
    monkeypatch.setattr(basic.AnsibleModule, "fail_json", fail_json)
    monkeypatch.setattr(basic.AnsibleModule, "warn", lambda _module, text: warnings.append(text))
    return warnings
