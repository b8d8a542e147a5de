"""The vocabulary of job postings: segment classes and the phrases that announce or reveal them.

    heading_class("Benefits & Perks") -> SegmentClass.BENEFITS
    boilerplate_class(text), content_class(text) -> SegmentClass | None

Plain English rules (with the most common German and Spanish section names), ordered so the first
match wins. Ignores grammar: a phrase list, not a parser; `compressor.classify` adds context.
"""

import re
from enum import StrEnum


class SegmentClass(StrEnum):
    SUMMARY = "role_summary"
    RESPONSIBILITIES = "responsibilities"
    REQUIREMENTS = "requirements"
    SKILLS = "skills"
    COMPANY = "company_blurb"
    BENEFITS = "benefits"
    LEGAL = "legal_eeo"
    APPLY = "application"
    OTHER = "other"  # none of the above (e.g. "Job type: Full-time", a location line)


def _rx(pattern: str) -> re.Pattern[str]:
    """Patterns are lowercase and match lowercased text: 3x faster than re.IGNORECASE."""
    return re.compile(pattern)


C = SegmentClass
# What a section heading announces. Checked in order: "About the role" is a summary, "About us" a blurb.
_HEADINGS: tuple[tuple[SegmentClass, re.Pattern[str]], ...] = (
    (C.LEGAL, _rx(r"equal (employment )?opportunit|\beeo\b|disclaimer|\blegal\b|accommodation|diversity|privacy")),
    (C.APPLY, _rx(r"\bapply\b|how to apply|application|next steps|^contact|interested\?|ready to join|bewerbung")),
    (
        C.BENEFITS,
        _rx(
            r"benefit|perks|we offer|our offer|compensation|salary|^pay\b|in it for you|^schedule|rewards|"
            r"wir bieten|ofrecemos|what you get"
        ),
    ),
    (C.SUMMARY, _rx(r"about (the|this) (role|job|position|opportunity)|summary|overview|the opportunity|purpose")),
    (
        C.COMPANY,
        _rx(
            r"about us|about the (company|team)|^about (?!you\b)[a-z0-9&.' -]+$|who we are|"
            r"our (company|story|mission|culture|team)|company (description|overview|profile|info)|"
            r"why (join|work)|life at|über uns|sobre nosotros|^the company"
        ),
    ),
    (C.SKILLS, _rx(r"skill|technolog|tech stack|\btools\b|competenc|kenntnisse|habilidades")),
    (
        C.REQUIREMENTS,
        _rx(
            r"requirement|qualifi|what you('ll)? (bring|need|have)|who you are|about you|profile|"
            r"must.have|nice.to.have|preferred|experience|education|you have|looking for|ideal candidate|"
            r"you are|anforderungen|\bprofil\b|requisitos"
        ),
    ),
    (
        C.RESPONSIBILITIES,
        _rx(
            r"responsib|duties|what you('ll| will) do|your (role|job|tasks|day|mission|impact)|"
            r"the role|key tasks|essential functions|day.to.day|in this role|accountabilit|"
            r"make an impact|you will|aufgaben|tareas|funciones"
        ),
    ),
    (C.SUMMARY, _rx(r"description|position|^role\b|introduction|details$|the job")),
)

# Phrases that mark boilerplate wherever they appear, whatever the section says.
_BOILERPLATE: tuple[tuple[SegmentClass, re.Pattern[str]], ...] = (
    (
        C.LEGAL,
        _rx(
            r"equal (employment )?opportunit|without regard to|affirmative action|\beeo\b|e-verify|"
            r"reasonable accommodation|protected (veteran|class|status)|sexual orientation|gender identity|"
            r"drug[- ]free|at-will|criminal histor|fair chance|background check"
        ),
    ),
    (
        C.APPLY,
        _rx(
            r"\bapply (now|today|online|here|through|via|at)|to apply|easy apply|click (the|our|here|on)|"
            r"send (us )?(your|a) (resume|cv)|submit (your|a) (resume|cv|application)|https?://|www\.|"
            r"@[a-z0-9-]+\.[a-z]{2,}|job (id|ref)\b|requisition"
        ),
    ),
    (
        C.BENEFITS,
        _rx(
            r"401\(?k|health(care)? (insurance|benefits|plan)|dental|vision (insurance|coverage|plans?)|"
            r"paid time off|\bpto\b|paid (holidays|leave|vacation)|tuition|parental leave|life insurance|"
            r"employee discount|salary|\$\s?\d|per (hour|year|annum)|pay range|\bpay:|pension|"
            r"flexible (working )?hours|work-life balance"
        ),
    ),
)

# Cues of the valuable classes, for text under no (or an uninformative) heading.
_CONTENT: tuple[tuple[SegmentClass, re.Pattern[str]], ...] = (
    (
        C.REQUIREMENTS,
        _rx(
            r"\b\d+\+?\s*(?:(?:-|to|–)\s*\d+\+?\s*)?(?:years?|yrs)\b|bachelor|master'?s\b|\bdegree\b|"
            r"diploma|\bph\.?d\b|certifi|licen[sc]|\brequired\b|\bpreferred\b|must (have|be|possess)|"
            r"proficien|fluen(t|cy)|knowledge of|familiar|experience (in|with|of)|understanding of|"
            r"ability to|able to|\bskills?\b|track record|background in|expertise"
        ),
    ),
    (
        C.RESPONSIBILITIES,
        _rx(
            r"^(you will|you'll|responsible for|duties include|in this role|as an? [\w -]{2,40},)|"
            r"^(manag|develop|lead|coordinat|design|build|maintain|support|prepar|ensur|assist|"
            r"conduct|perform|creat|implement|monitor|review|analy[sz]|provid|collaborat|oversee|"
            r"plan|driv|deliver|handl|writ|test|train|communicat|track|report|own|operat|"
            r"process|schedul|negotiat|identif|partner|serv|sell|mentor|evaluat|establish|"
            r"execut|direct|organi[sz]|respond|resolv|install|repair|inspect|administer)\w*\b"
        ),
    ),
    (
        C.SUMMARY,
        _rx(
            r"\b(this|the) (role|position|job)\b|\b(seeking|looking for|hiring) (a|an)\b|is seeking|"
            r"we are (seeking|looking|hiring)|will report to|reporting to"
        ),
    ),
    (
        C.COMPANY,
        _rx(
            r"\b(we are|we're) (a|an|the|one of)\b|\bour (mission|vision|values|company|culture|clients?|"
            r"customers|people|story|purpose|employees|team members)\b|founded in|headquartered|"
            r"leading (provider|company|global)|fortune \d+|award-winning|\bjoin (us|our)\b|we believe|"
            r"employees (worldwide|globally|across)|welcome to|\bmission\b|we are (dedicated|committed|proud|"
            r"passionate)|\bour (approach|services?|products|brand|platform)\b|\bproud\b"
        ),
    ),
)
_LIST_SPLIT = re.compile(r",|/|\band\b|\bor\b")
# A skills list: at least this many items, each this short ("Python, SQL, Excel and Tableau").
MIN_LIST_ITEMS, MAX_ITEM_WORDS = 3, 3


def _first(rules: tuple[tuple[SegmentClass, re.Pattern[str]], ...], text: str) -> SegmentClass | None:
    lowered = text.lower()
    return next((cls for cls, pattern in rules if pattern.search(lowered)), None)


def heading_class(heading: str) -> SegmentClass | None:
    return _first(_HEADINGS, heading.strip().rstrip(":?").strip())


def boilerplate_class(text: str) -> SegmentClass | None:
    return _first(_BOILERPLATE, text)


def is_skill_list(text: str) -> bool:
    items = [words for item in _LIST_SPLIT.split(text.lower()) if (words := item.split())]
    return len(items) >= MIN_LIST_ITEMS and all(len(words) <= MAX_ITEM_WORDS for words in items)


def content_class(text: str) -> SegmentClass | None:
    if is_skill_list(text):
        return C.SKILLS
    return _first(_CONTENT, text)
