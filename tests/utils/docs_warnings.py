"""Fail the documentation build on every Sphinx warning that does not come from being offline.

    docs_warnings.py WARNINGS_FILE

WARNINGS_FILE is what `sphinx-build -w` wrote. Without network access, two kinds of warning are expected, and only
these are tolerated (each is printed, with the reason):

- an intersphinx inventory that could neither be downloaded (a connection error) nor read from its local fallback
  file (which does not exist);
- a reference to one of the labels of Ansible's own documentation that antsibull-docs' generated pages make, while
  the inventory of docs.ansible.com, the only place that defines them, was unreachable.

Anything else (a broken reference of our own, bad RST, a page missing from a toctree, an error) fails, listed.
"""

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

ENTRY = re.compile(r"^(?:(?P<location>\S.*?): )?(?P<level>WARNING|ERROR|CRITICAL|SEVERE): (?P<message>.*)$")
UNREACHABLE = "failed to reach any of the inventories with the following issues:"
NOT_FETCHABLE = re.compile(
    r"^intersphinx inventory '(?P<url>https?://[^']+)' not fetchable due to "
    r"<class 'requests\.exceptions\.(?:ConnectionError|ProxyError|ConnectTimeout|ReadTimeout|Timeout)'>"
)
NO_FALLBACK = re.compile(r"^intersphinx inventory '[^']+' not readable due to FileNotFoundError")
UNDEFINED_LABEL = re.compile(r"^undefined label: '(?P<label>[^']+)'")
ANSIBLE_DOCS = "https://docs.ansible.com/"
# Labels of Ansible's documentation that antsibull-docs writes into every module page (return values) and into
# the environment variables index (configuration settings).
ANSIBLE_DOCS_LABELS = frozenset({"common_return_values", "ansible_configuration_settings"})


@dataclass
class SphinxWarning:
    location: str
    level: str
    message: str
    details: list = field(default_factory=list)

    @property
    def head(self):
        return f"{self.location}: {self.level}: {self.message}" if self.location else f"{self.level}: {self.message}"

    def __str__(self):
        return "\n".join([self.head, *(f"    {line}" for line in self.details)])


def parse(text: str) -> list:
    warnings = []
    for line in text.splitlines():
        match = ENTRY.match(line)
        if match:
            warnings.append(SphinxWarning(match["location"] or "", match["level"], match["message"]))
        elif warnings and line.strip():
            warnings[-1].details.append(line.strip())
        elif line.strip():
            warnings.append(SphinxWarning("", "UNPARSED", line.strip()))
    return warnings


def unreachable_inventories(warning: SphinxWarning) -> list:
    """The URLs of the inventories this warning reports as unreachable, or [] if it says anything else."""
    if warning.level != "WARNING" or warning.message != UNREACHABLE or not warning.details:
        return []
    urls = []
    for line in warning.details:
        fetch = NOT_FETCHABLE.match(line)
        if fetch:
            urls.append(fetch["url"])
        elif not NO_FALLBACK.match(line):
            return []
    return urls


def classify(warnings: list) -> tuple:
    tolerated, failures = [], []
    unreachable = {}
    for warning in warnings:
        urls = unreachable_inventories(warning)
        if urls:
            unreachable.update(dict.fromkeys(urls))
            tolerated.append(f"intersphinx inventory {', '.join(urls)} unreachable and no local copy")
    ansible_docs_offline = any(url.startswith(ANSIBLE_DOCS) for url in unreachable)
    for warning in warnings:
        if unreachable_inventories(warning):
            continue
        label = UNDEFINED_LABEL.match(warning.message) if warning.level == "WARNING" else None
        if label and label["label"] in ANSIBLE_DOCS_LABELS and ansible_docs_offline:
            tolerated.append(f"{warning.head}: the label is Ansible's documentation's, whose inventory was unreachable")
        else:
            failures.append(warning)
    return tolerated, failures


def main(argv: list) -> int:
    if len(argv) != 1:
        raise SystemExit(__doc__)
    tolerated, failures = classify(parse(Path(argv[0]).read_text(encoding="utf-8")))
    for text in tolerated:
        print(f"tolerated (offline): {text}")
    if failures:
        print(f"{len(failures)} documentation warning(s) that do not come from being offline:")
        for warning in failures:
            print(f"  {warning}")
        return 1
    print(f"CHECK ok: the documentation builds with no warning but the {len(tolerated)} that come from being offline")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
