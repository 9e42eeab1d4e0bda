"""multipart/form-data bodies (RFC 7578), read strictly: ISC answers a malformed one with 500, so must the emulator."""

from __future__ import annotations

import re
import urllib.parse

# RFC 2046: 1 to 70 characters from this set, the last not a space.
BOUNDARY = re.compile(r"[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]")
PARAMETER = re.compile(r';\s*([A-Za-z0-9_*-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;\s]*)')
MAX_PARTS = 100


class MultipartError(ValueError):
    """A body that is not the multipart/form-data its Content-Type announces; the message says why."""


def _parameters(header_value):
    """A header's value and its parameters: 'form-data; name="a"' -> ('form-data', {'name': 'a'})."""
    value, _separator, rest = header_value.partition(";")
    parameters = {}
    for name, raw in PARAMETER.findall(";" + rest):
        if raw.startswith('"'):
            raw = re.sub(r"\\(.)", r"\1", raw[1:-1])
        parameters[name.lower()] = raw
    return value.strip().lower(), parameters


def boundary_of(content_type):
    """The boundary a multipart/form-data Content-Type names; MultipartError when it names none or a bad one."""
    kind, parameters = _parameters(content_type)
    if kind != "multipart/form-data":
        raise MultipartError("the Content-Type is %r, not multipart/form-data" % kind[:60])
    boundary = parameters.get("boundary")
    if not boundary:
        raise MultipartError("the multipart/form-data Content-Type has no boundary")
    if not BOUNDARY.fullmatch(boundary):
        raise MultipartError("the multipart boundary %r is not 1 to 70 allowed characters" % boundary[:80])
    return boundary.encode("ascii")


def _part(raw, index):
    """(name, value bytes, filename or None) of one part."""
    head, separator, value = raw.partition(b"\r\n\r\n")
    if not separator:
        raise MultipartError("part %d has no blank line between its headers and its content" % index)
    disposition = None
    for line in head.split(b"\r\n"):
        name, colon, header_value = line.decode("utf-8", "replace").partition(":")
        if not colon:
            raise MultipartError("part %d has a malformed header line" % index)
        if name.strip().lower() == "content-disposition":
            disposition = header_value
    if disposition is None:
        raise MultipartError("part %d has no Content-Disposition" % index)
    kind, parameters = _parameters(disposition)
    if kind != "form-data" or "name" not in parameters:
        raise MultipartError("part %d is not form-data with a name" % index)
    return parameters["name"], value, parameters.get("filename")


def parse(content_type, body):
    """{field name: (value bytes, filename or None)}; the first part of a repeated name wins."""
    boundary = boundary_of(content_type)
    delimiter = b"--" + boundary
    if not body:
        raise MultipartError("the multipart body is empty")
    if not body.startswith(delimiter):
        # Whatever comes before the first boundary line is a preamble, which readers ignore.
        start = body.find(b"\r\n" + delimiter)
        if start < 0:
            raise MultipartError("the body does not hold its boundary")
        body = body[start + 2 :]
    if body.startswith(delimiter + b"--"):
        # A body of no part at all, as some form writers send when they have no field to send.
        return {}
    end = body.find(b"\r\n" + delimiter + b"--")
    if end < 0:
        raise MultipartError("the body has no closing boundary")
    sections = body[len(delimiter) : end].split(b"\r\n" + delimiter)
    if len(sections) > MAX_PARTS:
        raise MultipartError("the body has more than %d parts" % MAX_PARTS)
    fields = {}
    for index, section in enumerate(sections, 1):
        # Each delimiter line may carry trailing spaces (RFC 2046 transport padding) before its line end.
        line_end = section.find(b"\r\n")
        if line_end < 0 or section[:line_end].strip(b" \t"):
            raise MultipartError("part %d does not start on the line after its boundary" % index)
        name, value, filename = _part(section[line_end + 2 :], index)
        fields.setdefault(name, (value, filename))
    return fields


def parse_form(content_type, body):
    """The fields of a multipart/form-data or application/x-www-form-urlencoded body, as parse() gives them."""
    if content_type.split(";")[0].strip().lower() == "application/x-www-form-urlencoded":
        pairs = urllib.parse.parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
        fields = {}
        for name, value in pairs:
            fields.setdefault(name, (value.encode("utf-8"), None))
        return fields
    return parse(content_type, body)


def encode(fields, boundary="isc-emulator-boundary"):
    """(Content-Type, body) of a well-formed multipart/form-data body; fields map names to text or (filename, bytes)."""
    chunks = []
    for name, value in fields.items():
        if isinstance(value, tuple):
            filename, content = value
            disposition = 'form-data; name="%s"; filename="%s"' % (name, filename)
            chunks.append(b"--%s\r\nContent-Disposition: %s\r\nContent-Type: text/csv\r\n\r\n%s\r\n" % (boundary.encode(), disposition.encode(), content))
        else:
            chunks.append(b'--%s\r\nContent-Disposition: form-data; name="%s"\r\n\r\n%s\r\n' % (boundary.encode(), name.encode(), str(value).encode()))
    chunks.append(b"--%s--\r\n" % boundary.encode())
    return "multipart/form-data; boundary=" + boundary, b"".join(chunks)
