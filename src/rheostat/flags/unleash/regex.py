"""Unleash ``REGEX`` patterns (Rust ``regex`` crate syntax, RE2-like) compiled for Python's ``re``.

Unleash matches with Rust's ``regex`` crate: unanchored search, Unicode-aware classes, no
lookaround or backreferences. Python's ``re`` differs in a few places, so a pattern is first
translated:

* ``$`` outside multi-line mode matches only at the very end (``\\Z``), and ``\\z`` is ``\\Z``;
* an inline flag group in the middle of a pattern (``^(?i)abc$``) applies to the rest of the
  enclosing group, as in Rust (Python only allows global flags at the start);
* POSIX classes (``[[:alpha:]]``) expand to their ASCII ranges;
* ``(?<name>...)`` is a named group; ``\\x{...}``, ``\\u{...}`` and ``\\U{...}`` are code points.

Patterns Rust rejects (lookaround, backreferences, possessive or atomic groups, unbalanced
parentheses...) come back as ``None``: Unleash never matches them. Patterns Rust accepts but
``re`` cannot express (Unicode property classes ``\\p{..}``, nested classes and class set
operations, verbose or swap-greed flags, ``\\<``/``\\>``) raise ``UnsupportedPattern``, so the
import fails instead of matching differently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = ["UnsupportedPattern", "compile_pattern"]


class UnsupportedPattern(ValueError):
    """A pattern Unleash accepts but Python's ``re`` cannot reproduce."""


class _Rejected(Exception):
    """A pattern Unleash's engine itself rejects."""


_POSIX_CLASSES = {
    "alnum": "0-9A-Za-z",
    "alpha": "A-Za-z",
    "ascii": "\\x00-\\x7F",
    "blank": "\\t ",
    "cntrl": "\\x00-\\x1F\\x7F",
    "digit": "0-9",
    "graph": "!-~",
    "lower": "a-z",
    "print": " -~",
    "punct": "!-/:-@\\[-`{-~",
    "space": "\\t\\n\\v\\f\\r ",
    "upper": "A-Z",
    "word": "0-9A-Za-z_",
    "xdigit": "0-9A-Fa-f",
}
_PASSING_ESCAPES = frozenset("bBdDwWsSntrfvaA")
_CODE_POINT = re.compile(r"[xuU]\{([0-9A-Fa-f]{1,8})\}")
_INLINE_FLAGS = re.compile(r"\(\?([A-Za-z]*(?:-[A-Za-z]*)?)([:)])")
_GROUP_NAME = re.compile(r"\(\?P?<([A-Za-z_][A-Za-z0-9_]*)>")
_REJECTED_GROUPS = ("(?=", "(?!", "(?<=", "(?<!", "(?P=", "(?P>", "(?>", "(?(", "(?#", "(?|")
_QUANTIFIERS = frozenset("*+?")
_COUNTED = re.compile(r"\{[0-9]+(?:,[0-9]*)?\}")
_POSIX = re.compile(r"\[:(\^?)([a-z]+):\]")


def compile_pattern(pattern: str, *, case_insensitive: bool) -> re.Pattern[str] | None:
    """Return ``pattern`` compiled with Unleash's meaning, or None if Unleash rejects it.

    Raises:
        UnsupportedPattern: Unleash accepts the pattern but ``re`` cannot reproduce it.
    """
    try:
        translated = _Translator(pattern).translate()
    except _Rejected:
        return None
    try:
        return re.compile(translated, re.IGNORECASE if case_insensitive else 0)
    except re.error:
        return None


@dataclass(slots=True)
class _Translator:
    """One pass over the pattern, writing the ``re`` equivalent."""

    pattern: str
    position: int = 0
    output: list[str] = field(default_factory=list)
    pending: list[int] = field(default_factory=lambda: [0])  # ')' owed per open group
    after_quantifier: bool = False

    def translate(self) -> str:
        while self.position < len(self.pattern):
            self._step()
        if len(self.pending) != 1:
            raise _Rejected  # an unclosed group
        return "".join(self.output) + ")" * self.pending[0]

    def _step(self) -> None:
        char = self.pattern[self.position]
        quantifier = char in _QUANTIFIERS or char == "{"
        if quantifier and self.after_quantifier:
            raise _Rejected  # possessive or stacked repetition
        handler = _HANDLERS.get(char, _Translator._literal)
        handler(self)
        self.after_quantifier = quantifier

    def _literal(self) -> None:
        self.output.append(self.pattern[self.position])
        self.position += 1

    def _quantifier(self) -> None:
        self._literal()
        if self.pattern.startswith("?", self.position):  # lazy: still one repetition
            self._literal()

    def _repetition(self) -> None:
        counted = _COUNTED.match(self.pattern, self.position)
        if counted is None:
            raise _Rejected  # Rust has no literal '{' outside a counted repetition
        self.output.append(counted.group(0))
        self.position = counted.end()
        if self.pattern.startswith("?", self.position):
            self._literal()

    def _dollar(self) -> None:
        self.output.append("$" if _uses_multiline(self.pattern) else r"\Z")
        self.position += 1

    def _escape(self) -> None:
        self.output.append(_escape(self.pattern, self.position, in_class=False))
        self.position += _escape_length(self.pattern, self.position)

    def _open(self) -> None:
        rest = self.pattern[self.position :]
        if rest.startswith(_REJECTED_GROUPS):
            raise _Rejected
        named = _GROUP_NAME.match(rest)
        if named:
            self._push(f"(?P<{named.group(1)}>", named.end())
        elif not rest.startswith("(?"):
            self._push("(", 1)
        else:
            self._flags(_INLINE_FLAGS.match(rest))

    def _push(self, opening: str, length: int) -> None:
        self.output.append(opening)
        self.position += length
        self.pending.append(0)

    def _flags(self, flags: re.Match[str] | None) -> None:
        if flags is None or flags.group(0) == "(?)":
            raise _Rejected
        opening = f"(?{_python_flags(flags.group(1))}:"
        if flags.group(2) == ":":
            self._push(opening, flags.end())
            return
        self.output.append(opening)  # (?i) runs to the end of the enclosing group
        self.position += flags.end()
        self.pending[-1] += 1

    def _close(self) -> None:
        if len(self.pending) == 1:
            raise _Rejected  # unbalanced ')'
        self.output.append(")" * (self.pending.pop() + 1))
        self.position += 1

    def _class(self) -> None:
        end, text = _translate_class(self.pattern, self.position)
        self.output.append(text)
        self.position = end


_HANDLERS = {
    "\\": _Translator._escape,
    "(": _Translator._open,
    ")": _Translator._close,
    "[": _Translator._class,
    "$": _Translator._dollar,
    "{": _Translator._repetition,
    "*": _Translator._quantifier,
    "+": _Translator._quantifier,
    "?": _Translator._quantifier,
}


def _uses_multiline(pattern: str) -> bool:
    return any("m" in flags.group(1).partition("-")[0] for flags in _INLINE_FLAGS.finditer(pattern))


def _python_flags(flags: str) -> str:
    on, _, off = flags.partition("-")
    if set(on + off) - set("imsu"):
        raise UnsupportedPattern(f"the inline flags (?{flags}) cannot be imported")
    if "u" in off:
        raise UnsupportedPattern("ASCII-only mode (?-u) has no Python equivalent")
    on, off = on.replace("u", ""), off.replace("u", "")
    return f"{on}-{off}" if off else on


def _escape_length(pattern: str, position: int) -> int:
    code_point = _CODE_POINT.match(pattern, position + 1)
    return 1 + (code_point.end() - position - 1 if code_point else 1)


def _escape(pattern: str, position: int, *, in_class: bool) -> str:
    """Translate the escape at ``position`` (a backslash)."""
    if position + 1 >= len(pattern):
        raise _Rejected  # a trailing backslash
    char = pattern[position + 1]
    code_point = _CODE_POINT.match(pattern, position + 1)
    if code_point:
        return f"\\U{int(code_point.group(1), 16):08x}"
    if char in "pP<>" or pattern.startswith("b{", position + 1):
        raise UnsupportedPattern(f"the escape \\{char} has no Python equivalent")
    if char == "z" and not in_class:
        return r"\Z"
    if char in _PASSING_ESCAPES or char in "xuU" or not char.isascii() or not char.isalnum():
        return pattern[position : position + 2]
    raise _Rejected  # backreferences and escapes Rust does not know


def _translate_class(pattern: str, start: int) -> tuple[int, str]:
    """Translate the class opening at ``start``; return where it ends and its text."""
    position = start + 1
    parts = ["["]
    if pattern.startswith("^", position):
        parts.append("^")
        position += 1
    if pattern.startswith("]", position):
        parts.append("\\]")
        position += 1
    while position < len(pattern) and pattern[position] != "]":
        text, position = _class_item(pattern, position)
        parts.append(text)
    if position >= len(pattern):
        raise _Rejected  # an unclosed class
    return position + 1, "".join(parts) + "]"


def _class_item(pattern: str, position: int) -> tuple[str, int]:
    char = pattern[position]
    if char == "\\":
        end = position + _escape_length(pattern, position)
        return _escape(pattern, position, in_class=True), end
    if char == "[":
        return _posix_class(pattern, position)
    if pattern.startswith(("&&", "--", "~~"), position):
        raise UnsupportedPattern("character class set operations have no Python equivalent")
    if char in "&~|":
        return "\\" + char, position + 1
    return char, position + 1


def _posix_class(pattern: str, position: int) -> tuple[str, int]:
    match = _POSIX.match(pattern, position)
    if match is None:
        raise UnsupportedPattern("nested character classes have no Python equivalent")
    negated, name = match.groups()
    if name not in _POSIX_CLASSES:  # Rust then reads the brackets as a nested class
        reason = "is not a POSIX class but a nested character class, which has no Python equivalent"
        raise UnsupportedPattern(f"{match.group(0)} {reason}")
    if negated:
        raise UnsupportedPattern(f"the negated class [:^{name}:] has no Python equivalent")
    return _POSIX_CLASSES[name], match.end()
