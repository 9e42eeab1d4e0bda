"""A credential type as AWX / Automation Platform handles it: checked when it is saved, injected when a job runs.

AWX keeps a custom credential type as two documents, ``inputs`` and ``injectors``. When the type is saved it
checks both (field ids, field options, which environment variables a credential may set, and that every template
names a defined field); when a job starts it renders the injectors in a sandboxed Jinja environment with the
credential's values, writes ``file`` injectors to the job's private data directory and sets the ``env`` injectors
as the job's environment. The tests use this module to feed ansible-runner exactly what AWX would give a job, from
the collection's own extensions/awx/credential_type.yml.

    validate(definition)                                   raise CredentialTypeError on what AWX refuses to save
    inject(definition, inputs, private_data_dir)           -> (env, extra_vars, written files)
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

from jinja2 import StrictUndefined, TemplateSyntaxError, UndefinedError
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

NAME = re.compile(r"^[a-zA-Z_]+[a-zA-Z0-9_]*$")
FILE_TEMPLATE = re.compile(r"^template(\.[a-zA-Z_]+[a-zA-Z0-9_]*)?$")
FIELD_KEYS = {"id", "label", "type", "format", "choices", "help_text", "multiline", "secret", "ask_at_runtime", "default"}
STRING_ONLY_KEYS = ("choices", "multiline", "format", "secret")
FORMATS = ("ssh_private_key", "url")
# Variables AWX itself sets for a job; a credential may not set them (nor any ANSIBLE_* variable).
ENV_BLOCKLIST = frozenset(
    {
        "VIRTUAL_ENV",
        "PATH",
        "PYTHONPATH",
        "JOB_ID",
        "INVENTORY_ID",
        "INVENTORY_SOURCE_ID",
        "INVENTORY_UPDATE_ID",
        "AD_HOC_COMMAND_ID",
        "REST_API_URL",
        "REST_API_TOKEN",
        "MAX_EVENT_RES",
        "CALLBACK_QUEUE",
        "CALLBACK_CONNECTION",
        "CACHE",
        "JOB_CALLBACK_DEBUG",
        "INVENTORY_HOSTVARS",
        "AWX_HOST",
        "PROJECT_REVISION",
        "SUPERVISOR_CONFIG_PATH",
    }
)


class CredentialTypeError(ValueError):
    pass


class _Reserved:
    """``tower`` itself may not be rendered, and ``tower.filename`` only when a file injector exists."""

    def __init__(self, filename):
        self.filename = filename

    def __str__(self):
        raise UndefinedError("the reserved tower namespace cannot be rendered itself")


class _NoFile:
    def __str__(self):
        raise UndefinedError("tower.filename needs an unnamed file injector")


def validate(definition: dict) -> None:
    """Apply the checks AWX applies when a custom credential type is saved."""
    unknown = set(definition) - {"name", "description", "kind", "inputs", "injectors"}
    if unknown:
        raise CredentialTypeError(f"unknown keys {sorted(unknown)}")
    if not definition.get("name"):
        raise CredentialTypeError("a credential type needs a name")
    if definition.get("kind") not in ("cloud", "net"):
        raise CredentialTypeError(f"kind must be cloud or net for a custom credential type, not {definition.get('kind')!r}")
    fields = _validate_inputs(definition.get("inputs") or {})
    _validate_injectors(definition.get("injectors") or {}, fields)


def _validate_inputs(inputs: dict) -> dict:
    if set(inputs) - {"fields", "required"}:
        raise CredentialTypeError(f"inputs: unknown keys {sorted(set(inputs) - {'fields', 'required'})}")
    fields = {}
    for field in inputs.get("fields", []):
        if set(field) - FIELD_KEYS or not {"id", "label"} <= set(field):
            raise CredentialTypeError(f"inputs field {field.get('id')!r}: needs id and label, may have only {sorted(FIELD_KEYS)}")
        field_id, field_type = field["id"], field.get("type", "string")
        if not NAME.match(field_id) or field_id == "tower":
            raise CredentialTypeError(f"inputs field id {field_id!r} is not a valid variable name (or is the reserved tower)")
        if field_id in fields:
            raise CredentialTypeError(f"inputs field id {field_id!r} is used twice")
        if field_type not in ("string", "boolean"):
            raise CredentialTypeError(f"inputs field {field_id!r}: type must be string or boolean")
        if field_type != "string" and any(key in field for key in STRING_ONLY_KEYS):
            raise CredentialTypeError(f"inputs field {field_id!r}: {', '.join(STRING_ONLY_KEYS)} are for string fields")
        if "format" in field and field["format"] not in FORMATS:
            raise CredentialTypeError(f"inputs field {field_id!r}: format must be one of {FORMATS}")
        choices = field.get("choices")
        if choices is not None and (not choices or len(set(choices)) != len(choices) or not all(isinstance(item, str) for item in choices)):
            raise CredentialTypeError(f"inputs field {field_id!r}: choices must be distinct strings")
        if "default" in field and not isinstance(field["default"], {"string": str, "boolean": bool}[field_type]):
            raise CredentialTypeError(f"inputs field {field_id!r}: its default is not a {field_type}")
        fields[field_id] = dict(field, type=field_type)
    missing = [name for name in inputs.get("required", []) if name not in fields]
    if missing:
        raise CredentialTypeError(f"inputs: required names undefined fields {missing}")
    return fields


def _validate_injectors(injectors: dict, fields: dict) -> None:
    if set(injectors) - {"file", "env", "extra_vars"}:
        raise CredentialTypeError(f"injectors: unknown keys {sorted(set(injectors) - {'file', 'env', 'extra_vars'})}")
    templates = list(injectors.get("file", {}))
    if any(not FILE_TEMPLATE.match(name) for name in templates):
        raise CredentialTypeError(f"injectors.file: keys must be template or template.<name>, not {templates}")
    if "template" in templates and len(templates) > 1:
        raise CredentialTypeError("injectors.file: use template.<name> for every file when there are several")
    for name, value in injectors.get("env", {}).items():
        if not NAME.match(name):
            raise CredentialTypeError(f"injectors.env: {name!r} is not an environment variable name")
        if name.startswith("ANSIBLE_") or name in ENV_BLOCKLIST:
            raise CredentialTypeError(f"injectors.env: a credential may not set {name}")
        if not isinstance(value, str) or not value.isascii():
            raise CredentialTypeError(f"injectors.env: the template of {name} must be an ASCII string")
    if any(not NAME.match(name) for name in injectors.get("extra_vars", {})):
        raise CredentialTypeError("injectors.extra_vars: keys must be variable names")
    if "template" in templates:
        filename = "EXAMPLE_FILENAME"
    elif templates:
        filename = type("Files", (), {name.split(".", 1)[1]: "EXAMPLE_FILENAME" for name in templates})()
    else:
        filename = _NoFile()
    namespace = {field_id: False if field["type"] == "boolean" else "EXAMPLE" for field_id, field in fields.items()}
    namespace["tower"] = _Reserved(filename)
    strict = ImmutableSandboxedEnvironment(undefined=StrictUndefined)
    for kind, entries in injectors.items():
        for key, template in entries.items():
            try:
                strict.from_string(template).render(namespace)
            except UndefinedError as problem:
                raise CredentialTypeError(f"injectors.{kind}.{key} uses an undefined field ({problem})") from None
            except (TemplateSyntaxError, SecurityError) as problem:
                raise CredentialTypeError(f"injectors.{kind}.{key}: {problem}") from None


def inject(definition: dict, inputs: dict, private_data_dir: Path) -> tuple[dict, dict, list]:
    """What a job gets from a credential of this type: (environment, extra vars, files written).

    As in AWX: an empty input is left out of the template namespace (so it renders as an empty string), a missing
    boolean is False, every file injector is written (mode 0600) under ``private_data_dir/env`` and its path is
    ``tower.filename`` (or ``tower.filename.<name>``), and every env injector is set, empty or not.
    """
    validate(definition)
    fields = {field["id"]: field for field in definition["inputs"].get("fields", [])}
    unknown = set(inputs) - set(fields)
    if unknown:
        raise CredentialTypeError(f"a credential of this type has no inputs {sorted(unknown)}")
    missing = [name for name in definition["inputs"].get("required", []) if not inputs.get(name)]
    if missing:
        raise CredentialTypeError(f"the credential lacks the required inputs {missing}")
    for name, value in inputs.items():
        choices = fields[name].get("choices")
        if choices and value and value not in choices:
            raise CredentialTypeError(f"input {name}: {value!r} is not one of {choices}")
    namespace = {name: value for name, value in inputs.items() if isinstance(value, bool) or len(value)}
    for name, field in fields.items():
        if field.get("type") == "boolean":
            namespace.setdefault(name, False)
    sandbox = ImmutableSandboxedEnvironment()
    env_dir = Path(private_data_dir) / "env"
    env_dir.mkdir(parents=True, exist_ok=True)
    injectors = definition.get("injectors") or {}
    written, files = [], {}
    for label, template in injectors.get("file", {}).items():
        handle, path = tempfile.mkstemp(dir=env_dir)
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(sandbox.from_string(template).render(namespace))
        os.chmod(path, 0o600)
        written.append(Path(path))
        files[label.partition(".")[2] or None] = path
    if files:
        namespace["tower"] = type("Tower", (), {"filename": files[None] if None in files else type("Files", (), files)()})()
    env = {name: sandbox.from_string(template).render(namespace) for name, template in injectors.get("env", {}).items()}
    extra_vars = {name: sandbox.from_string(template).render(namespace) for name, template in injectors.get("extra_vars", {}).items()}
    return env, extra_vars, written
