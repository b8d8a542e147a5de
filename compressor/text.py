"""Raw description text → clean lines, ready for segmentation.

    clean(text) -> str   # one logical line per heading, bullet or paragraph

Undoes what real postings do to structure: HTML markup and entities, emoji used as bullets, and the
glued boundaries left when a scraper drops newlines ("Qualifications:Currently enrolled...",
"goal-drivenA strong communicator"). Ignores meaning: it never drops content, only markup.
Bounded: input beyond MAX_SCAN_CHARS is cut before any work, so a 1 MB blob costs what 100 KB does.
"""

import html
import re

# The schema's description cap (4x the longest of 665 real postings); the compressor keeps <1% of it.
MAX_SCAN_CHARS = 100_000
BULLET = "•"

_SCRIPT = re.compile(r"<(script|style)\b[^>]*>.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_LIST_ITEM = re.compile(r"<\s*li\b[^>]*>", re.IGNORECASE)
_BLOCK_TAG = re.compile(
    r"<\s*/?\s*(?:br|p|div|ul|ol|li|h[1-6]|tr|td|table|section|article|header|footer|hr)\b[^>]*>", re.IGNORECASE
)
# Any other tag; the length bound keeps a stray "<" in prose from swallowing the rest of the text.
_TAG = re.compile(r"</?[A-Za-z][^<>]{0,300}>")
_EMOJI = re.compile("[\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff\ufe0f\u200d\u20e3]+")
_INVISIBLE = re.compile("[\u200b\u200c\u2060\ufeff\u00ad]")
_SPACES = re.compile(r"[ \t\f\v\u00a0\u2000-\u200a\u202f\u3000]+")
# "Qualifications:Currently", "analysis.Assist": punctuation glued to the next capitalised word.
_GLUED_PUNCT = re.compile(r"(?<=[a-z)\]][.!?:;])(?=[A-Z][a-z])")
# "(Preferred)Graphic design": a closing parenthesis glued to the next word.
_GLUED_PAREN = re.compile(r"(?<=\))(?=[A-Z][a-z])")
# "descriptionA leading", "filesEvents", "DeadlinesGraphic Design": a word glued to the next one.
# CamelCase names stay whole: they start lowercase for under 3 letters (iPhone, eBay) or their first
# part is short (JavaScript, PowerPoint, LinkedIn) or their second is (ServiceNow).
_GLUED_WORD = re.compile(r"(?<![A-Za-z])([a-z]{3,}|[A-Z][a-z]{6,})(?=[A-Z](?:[a-z]{3}|[a-z]?\s|[a-z]'))")
# "Agent Assistance- Receive requests": a dash bullet with its newline lost.
_GLUED_DASH = re.compile(r"(?<=\S)- (?=[A-Z])")
_INLINE_BULLET = re.compile(r"\s+[•●▪■◦·]\s+")


def strip_html(text: str) -> str:
    if "<" not in text and "&" not in text:
        return text
    text = _SCRIPT.sub(" ", text)
    text = _LIST_ITEM.sub(f"\n{BULLET} ", text)
    text = _BLOCK_TAG.sub("\n", text)
    return html.unescape(_TAG.sub(" ", text))


def _emoji_as_bullets(text: str) -> str:
    """Emoji that start a line are bullets; elsewhere they are decoration and go."""
    stripped = (line.lstrip() for line in text.split("\n"))
    lines = (_EMOJI.sub(f"{BULLET} ", line, count=1) if _EMOJI.match(line) else line for line in stripped)
    return _EMOJI.sub(" ", "\n".join(lines))


def unglue(text: str) -> str:
    text = _GLUED_PUNCT.sub("\n", _GLUED_PAREN.sub("\n", text))
    text = _GLUED_WORD.sub("\\1\n", text)
    text = _GLUED_DASH.sub(f"\n{BULLET} ", text)
    return _INLINE_BULLET.sub(f"\n{BULLET} ", text)


def clean(text: str) -> str:
    """Markup-free text with one heading, bullet or paragraph per line, blank lines dropped."""
    text = strip_html(text[:MAX_SCAN_CHARS]).replace("\r\n", "\n").replace("\r", "\n")
    text = _emoji_as_bullets(_INVISIBLE.sub("", text.lstrip()))
    text = unglue(_SPACES.sub(" ", text))
    return "\n".join(line.strip() for line in text.split("\n") if line.strip())
