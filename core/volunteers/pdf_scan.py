"""Active content in an uploaded PDF: JavaScript, automatic actions, programs to launch, attached files.

An identity document or a diploma needs none of these, and the ARS opens the file in its own viewer: an
uploaded PDF that holds any of them is refused (core.volunteers.documents). What is refused, by PDF name:

- /JavaScript, /JS: scripts (document-level, in actions, in form fields);
- /AA: « additional actions », run on their own when a page opens or closes, a field changes…;
- /OpenAction, unless it is only the page to show first (a destination array `[3 0 R /Fit]`, or a reference to
  one): any action there runs as soon as the file is opened (a script, a program, a web address, a form sent);
- /Launch: runs a program or opens a file;
- /EmbeddedFile, /EmbeddedFiles: files attached inside the PDF (an executable travels that way);
- /RichMedia (Flash and other interactive media), /XFA (dynamic forms, which carry their own scripts).
Links a person clicks (/URI, /GoTo) stay allowed: nothing runs without the click.

How it reads the file, and its limits:
- Names are compared after decoding their « #xx » escapes (`/J#61vaScript` is `/JavaScript`).
- The file is read as PDF syntax, token by token: strings and comments are skipped (the words « /JS » written in
  a title are not a script) and so are stream bodies — an image's bytes may spell « /AA » by chance.
- A stream body that holds an object header (« 12 0 obj ») is read as syntax too: a cross-reference entry may
  point there, and a viewer would then read an object hidden inside an image.
- Object streams (PDF 1.5, `/Type /ObjStm` or `/First`), where dictionaries sit compressed, are decoded and read:
  FlateDecode, ASCIIHexDecode, ASCII85Decode and RunLengthDecode, alone or chained. One that cannot be decoded —
  another filter, a predictor, an encrypted file — is not verifiable, and so refused; so is a file whose object
  streams exceed MAX_DECODED_BYTES once decoded (a « zip bomb »), or that holds over MAX_TOKENS tokens.
- Other streams (page contents, images, fonts) are not decoded: they hold drawings, not actions.
"""

from __future__ import annotations

import base64
import re
import zlib
from dataclasses import dataclass, field

MAX_DECODED_BYTES = 32 * 1024 * 1024
MAX_TOKENS = 2_000_000
BODY_TOKENS = 64  # of an object referred to by /OpenAction: enough for a destination or a GoTo action

SCRIPT = "du code JavaScript"
ACTIVE_NAMES = {
    b"JavaScript": SCRIPT,
    b"JS": SCRIPT,
    b"AA": "des actions qui se lancent toutes seules (ouverture d'une page, d'un champ…)",
    b"Launch": "une commande qui lance un programme",
    b"EmbeddedFile": "des fichiers joints",
    b"EmbeddedFiles": "des fichiers joints",
    b"RichMedia": "du contenu multimédia interactif",
    b"XFA": "un formulaire dynamique (XFA), qui peut contenir des scripts",
}
OPEN_ACTION = "une action lancée dès l'ouverture du document"
TOO_BIG = "il est trop volumineux une fois décompressé"
UNREADABLE = "une partie en est chiffrée ou codée d'une façon que la plateforme ne sait pas lire"
TOO_COMPLEX = "sa structure est trop complexe"

_WHITE = rb"\x00\t\n\x0c\r "
_DELIMITERS = rb"()<>\[\]{}/%"
_TOKEN = re.compile(
    rb"[" + _WHITE + rb"]*(?:"
    rb"(?P<comment>%[^\r\n]*)"
    rb"|(?P<string>\()"
    rb"|(?P<open><<)|(?P<close>>>)"
    rb"|(?P<hex><[^<>]*>)"
    rb"|(?P<name>/[^" + _WHITE + _DELIMITERS + rb"]*)"
    rb"|(?P<word>[^" + _WHITE + _DELIMITERS + rb"]+)"
    rb"|(?P<other>[\[\]{}<>)])"
    rb")"
)
_STRING_STOP = re.compile(rb"[()\\]")
_NAME_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
_OBJECT_HEADER = re.compile(rb"(?<![0-9])\d+[" + _WHITE + rb"]+\d+[" + _WHITE + rb"]+obj(?![^" + _WHITE +
                            _DELIMITERS + rb"])")
_INTEGER = re.compile(rb"[+-]?\d+")
_END_OF_STREAM = re.compile(rb"[" + _WHITE + rb"]*endstream")
_OBJECT_PAIRS = re.compile(rb"(?:[" + _WHITE + rb"]*\d+[" + _WHITE + rb"]+\d+)*[" + _WHITE + rb"]*")
_FILTERS = {b"FlateDecode": "flate", b"Fl": "flate", b"ASCIIHexDecode": "hex", b"AHx": "hex",
            b"ASCII85Decode": "a85", b"A85": "a85", b"RunLengthDecode": "rl", b"RL": "rl"}


@dataclass(frozen=True)
class Finding:
    """Why the PDF is refused: `what` it contains, or, when it could not be read through, why."""

    what: str
    verifiable: bool = True


class _Refused(Exception):
    def __init__(self, finding: Finding):
        super().__init__(finding.what)
        self.finding = finding


@dataclass
class _Token:
    kind: str  # "name", "word", "open", "close", "other", "hex", "string"
    value: bytes


@dataclass
class _Scan:
    tokens: int = 0
    decoded: int = 0
    open_action_refs: list[int] = field(default_factory=list)
    open_action_in_place: bool = False  # an action written in place: refused at the end, unless a name inside
    # it (a script, a program) says more precisely what it does
    # object number → where each of its bodies begins (data, offset); read only if /OpenAction refers to it
    bodies: dict[int, list[tuple[bytes, int]]] = field(default_factory=dict)


def find_active_content(pdf: bytes) -> Finding | None:
    """What makes this PDF unsafe to open, or None when it holds no active content."""
    scan = _Scan()
    try:
        _read_syntax(pdf, scan, top_level=True)
        if scan.open_action_in_place:
            raise _Refused(Finding(OPEN_ACTION))
        for number in scan.open_action_refs:  # every definition of the object (an update may redefine it)
            bodies = scan.bodies.get(number, [])
            if not bodies or not all(_harmless_open_action(_first_tokens(*body)) for body in bodies):
                raise _Refused(Finding(OPEN_ACTION))
    except _Refused as refusal:
        return refusal.finding
    return None


def _name(raw: bytes) -> bytes:
    """A name token's bytes after its « #xx » escapes (without the slash)."""
    body = raw[1:]
    return _NAME_ESCAPE.sub(lambda match: bytes([int(match.group(1), 16)]), body) if b"#" in body else body


def _skip_string(data: bytes, position: int) -> int:
    """Past a literal string that opened just before `position`: nested parentheses, backslash escapes."""
    depth = 1
    while depth:
        stop = _STRING_STOP.search(data, position)
        if stop is None:
            return len(data)
        char, position = stop.group(), stop.end()
        if char == b"\\":
            position += 1
        else:
            depth += 1 if char == b"(" else -1
    return position


def _tokens(data: bytes, scan: _Scan, start: int = 0):  # noqa: ANN202 - a generator of (_Token, end)
    position = start
    while position < len(data):
        match = _TOKEN.match(data, position)
        if match is None or match.end() == position:
            position += 1  # a stray byte the grammar does not know: viewers skip it too
            continue
        scan.tokens += 1
        if scan.tokens > MAX_TOKENS:
            raise _Refused(Finding(TOO_COMPLEX, verifiable=False))
        kind = match.lastgroup
        if kind == "comment":
            position = match.end()
            continue
        if kind == "string":
            position = _skip_string(data, match.end())
            yield _Token("string", b""), position
            continue
        position = match.end()
        yield _Token(kind, match.group(kind)), position


def _read_syntax(data: bytes, scan: _Scan, *, top_level: bool) -> None:
    """Check every name of this PDF syntax; at top level, find the streams and read what they may hide."""
    recent: list[_Token] = []  # the tokens since the last « obj »: the current object's dictionary
    position: int | None = 0
    while position is not None:
        start, position = position, None
        for token, end in _tokens(data, scan, start):
            if token.kind == "name":
                _check_name(_name(token.value), data, end, scan)
            elif token.kind == "word" and token.value == b"obj":
                _record_object(recent, data, end, scan)
                recent = []
                continue
            elif top_level and token.kind == "word" and token.value == b"stream":
                position = _read_stream(data, end, recent, scan)  # tokens resume after the body
                recent = []
                break
            recent.append(token)
            if len(recent) > 4096:  # a dictionary is short; this bounds memory on a hostile file
                del recent[:2048]


def _check_name(name: bytes, data: bytes, end: int, scan: _Scan) -> None:
    if name in ACTIVE_NAMES:
        raise _Refused(Finding(ACTIVE_NAMES[name]))
    if name == b"OpenAction":
        _check_open_action(data, end, scan)


def _first_tokens(data: bytes, start: int) -> list[_Token]:
    tokens = []
    for token, _ in _tokens(data, _Scan(), start):
        tokens.append(token)
        if len(tokens) == BODY_TOKENS:
            break
    return tokens


def _check_open_action(data: bytes, end: int, scan: _Scan) -> None:
    """What /OpenAction holds, checked now when written in place, at the end when it is a reference."""
    following = _first_tokens(data, end)
    values = [token.value for token in following[:3]]
    if len(values) == 3 and _INTEGER.fullmatch(values[0]) and _INTEGER.fullmatch(values[1]) and values[2] == b"R":
        scan.open_action_refs.append(int(values[0]))
    elif not _harmless_open_action(following):
        scan.open_action_in_place = True


def _harmless_open_action(tokens: list[_Token]) -> bool:
    """Only which page to show first: a destination (an array, or null), or a « GoTo » action to one with no
    action chained after it (/Next) — as LaTeX's hyperref writes. Anything else is an action that runs."""
    if not tokens:
        return False
    if tokens[0].value in {b"[", b"null"}:
        return True
    entries = _entries(tokens) if tokens[0].kind == "open" else None
    if entries is None:
        return False
    kind = entries.get(b"S", [])
    return len(kind) == 1 and kind[0].kind == "name" and _name(kind[0].value) == b"GoTo" and b"Next" not in entries


def _opens(token: _Token) -> bool:
    return token.kind == "open" or token.value == b"["


def _closes(token: _Token) -> bool:
    return token.kind == "close" or token.value == b"]"


def _value(tokens: list[_Token], index: int) -> tuple[list[_Token] | None, int]:
    """One value from `index`: a nested dictionary or array, a reference « N G R », or one token."""
    if index >= len(tokens):
        return None, index
    if _opens(tokens[index]):
        depth = 0
        for end in range(index, len(tokens)):
            depth += _opens(tokens[end]) - _closes(tokens[end])
            if depth == 0:
                return tokens[index:end + 1], end + 1
        return None, len(tokens)
    triple = [token.value for token in tokens[index:index + 3]]
    if len(triple) == 3 and _INTEGER.fullmatch(triple[0]) and _INTEGER.fullmatch(triple[1]) and triple[2] == b"R":
        return tokens[index:index + 3], index + 3
    return tokens[index:index + 1], index + 1


def _entries(tokens: list[_Token]) -> dict[bytes, list[_Token]] | None:
    """A dictionary's keys and values (tokens[0] is « << »); None when it is cut off, malformed or has a key
    twice — then nobody can say which value a viewer would take."""
    entries: dict[bytes, list[_Token]] = {}
    index = 1
    while index < len(tokens):
        if tokens[index].kind == "close":
            return entries
        if tokens[index].kind != "name":
            return None
        key = _name(tokens[index].value)
        value, index = _value(tokens, index + 1)
        if value is None or key in entries:
            return None
        entries[key] = value
    return None


def _record_object(recent: list[_Token], data: bytes, end: int, scan: _Scan) -> None:
    """« N G obj »: keep the start of object N's body (to tell a destination from an action)."""
    if len(recent) >= 2 and recent[-2].kind == "word" and _INTEGER.fullmatch(recent[-2].value):
        scan.bodies.setdefault(int(recent[-2].value), []).append((data, end))


@dataclass
class _StreamDictionary:
    names: set[bytes] = field(default_factory=set)
    filters: list[bytes] = field(default_factory=list)
    length: int | None = None  # a direct /Length (an indirect one is not resolved)
    first: int | None = None  # an object stream's /First: where its objects begin
    parameters: bool = False  # /DecodeParms (a predictor…)


def _direct_integer(rest: list[_Token]) -> int | None:
    if not rest or rest[0].kind != "word" or not _INTEGER.fullmatch(rest[0].value):
        return None
    return None if len(rest) == 3 and rest[2].value == b"R" else int(rest[0].value)


def _dictionary(recent: list[_Token]) -> _StreamDictionary:
    """What matters of a stream's dictionary, from its tokens."""
    found = _StreamDictionary()
    for index, token in enumerate(recent):
        if token.kind != "name":
            continue
        name = _name(token.value)
        found.names.add(name)
        rest = recent[index + 1:index + 4]
        if name == b"Length":
            found.length = _direct_integer(rest)
        elif name == b"First":
            found.first = _direct_integer(rest)
        elif name == b"Filter":
            found.filters = _filter_names(recent[index + 1:])
        elif name in {b"DecodeParms", b"DP"}:
            found.parameters = bool(rest) and rest[0].value != b"null"
    return found


def _filter_names(tokens: list[_Token]) -> list[bytes]:
    if not tokens:
        return []
    if tokens[0].kind == "name":
        return [_name(tokens[0].value)]
    names = []
    if tokens[0].value == b"[":
        for token in tokens[1:]:
            if token.value == b"]":
                break
            names.append(_name(token.value) if token.kind == "name" else b"?")
    else:
        names.append(b"?")  # an indirect filter: not decodable here
    return names


def _read_stream(data: bytes, keyword_end: int, recent: list[_Token], scan: _Scan) -> int:
    """Check a stream body for hidden objects and, for an object stream, decode and read it; returns its end."""
    start = keyword_end + (2 if data.startswith(b"\r\n", keyword_end) else 1)
    dictionary = _dictionary(recent)
    length, end = dictionary.length, -1
    if length is not None and 0 <= length <= len(data) - start and _END_OF_STREAM.match(data, start + length):
        end = start + length
    if end < 0:
        found = data.find(b"endstream", start)
        end = len(data) if found < 0 else found
    body = data[start:end]
    hidden = _OBJECT_HEADER.search(body)
    if hidden:
        _read_syntax(body[hidden.start():], scan, top_level=False)
    if b"First" in dictionary.names or b"ObjStm" in dictionary.names:
        content = _decode(body, dictionary.filters, dictionary.parameters, scan)
        _read_object_stream(content, dictionary.first, scan)
    return end


def _decode(body: bytes, filters: list[bytes], parameters: bool, scan: _Scan) -> bytes:
    if parameters:  # a predictor or other parameters: not used for object streams by any common producer
        raise _Refused(Finding(UNREADABLE, verifiable=False))
    for name in filters:
        method = _FILTERS.get(name)
        if method is None:
            raise _Refused(Finding(UNREADABLE, verifiable=False))
        budget = MAX_DECODED_BYTES - scan.decoded
        try:
            body = _DECODERS[method](body, budget)
        except (zlib.error, ValueError):
            raise _Refused(Finding(UNREADABLE, verifiable=False)) from None
        scan.decoded += len(body)
        if scan.decoded >= MAX_DECODED_BYTES:
            raise _Refused(Finding(TOO_BIG, verifiable=False))
    return body


def _inflate(body: bytes, budget: int) -> bytes:
    inflater = zlib.decompressobj()
    output = inflater.decompress(body, budget)  # bounded: a few kilobytes may inflate to gigabytes
    if inflater.unconsumed_tail:
        raise _Refused(Finding(TOO_BIG, verifiable=False))
    return output


def _unhex(body: bytes, budget: int) -> bytes:
    digits = re.sub(rb"[" + _WHITE + rb"]", b"", body.split(b">", 1)[0])
    return bytes.fromhex((digits + b"0" * (len(digits) % 2)).decode("ascii"))[:budget]


def _un85(body: bytes, budget: int) -> bytes:
    text = re.sub(rb"[" + _WHITE + rb"]", b"", body)
    text = text[2:] if text.startswith(b"<~") else text
    return base64.a85decode(text.split(b"~>", 1)[0])[:budget]


def _unrun(body: bytes, budget: int) -> bytes:
    output, position = bytearray(), 0
    while position < len(body) and len(output) < budget:
        length = body[position]
        if length == 128:
            break
        if length < 128:
            output += body[position + 1:position + 2 + length]
            position += length + 2
        else:
            output += body[position + 1:position + 2] * (257 - length)
            position += 2
    return bytes(output)


_DECODERS = {"flate": _inflate, "hex": _unhex, "a85": _un85, "rl": _unrun}


def _read_object_stream(content: bytes, first: int | None, scan: _Scan) -> None:
    """An object stream's objects: « number offset » pairs, then the objects (dictionaries, arrays…)."""
    _read_syntax(content, scan, top_level=False)
    pairs = _OBJECT_PAIRS.match(content)
    numbers = [int(value) for value in pairs.group().split()]
    first = pairs.end() if first is None else first
    for number, offset in zip(numbers[::2], numbers[1::2], strict=False):
        scan.bodies.setdefault(number, []).append((content, first + offset))
